/**
 * One client adapter through real proxies (squid for HTTP CONNECT, plain and over TLS, with basic auth; dante
 * for SOCKS5 with username/password), to our own server of the same adapter, for ws: and wss:. Each success is
 * proven to have crossed the proxy by the proxy's own log; each refusal is checked for its typed error (which
 * hop, why). The environment rules run through the adapter's real environment (`setEnv`).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { within, type AdapterConnect, type AdapterServe } from './pair-suite.js';
import {
  makeTestCa, startDante, startSquid, withCredentials, PROXY_PASS, PROXY_USER, type RunningProxy, type RunningSquid, type TestCa,
} from './proxies.js';

export interface ProxySuiteSpec {
  name: string;
  connect: AdapterConnect;
  serve: AdapterServe;
  /** Options that make the adapter's client trust `ca` (for the target, and for an https: proxy via `proxyTls`). */
  trust: (ca: string) => Record<string, unknown>;
  /** The adapter's TLS server options for a certificate. */
  serverTls: (cert: string, key: string) => Record<string, unknown>;
  /** Sets (or with undefined, unsets) a variable in the runtime's real environment. */
  setEnv: (name: string, value: string | undefined) => void;
  /** What `proxy` means when the option is absent: 'env' or false (the adapter's documented default). */
  defaultProxy: 'env' | false;
  /** The adapter's createWebSocket(options): the browser-style class, which takes the same proxy options. */
  createWebSocket: (options: Record<string, unknown>) => new (url: string, protocols?: string[]) => BrowserSocket;
  /** The adapter's TLS failure class (name checks). */
  tlsError: new (...a: never[]) => Error;
}

interface BrowserSocket {
  binaryType: string;
  onopen: ((e: unknown) => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  send(d: string): void;
  close(code?: number, reason?: string): void;
}

interface Refusal {
  name?: string;
  code?: string;
  hop?: string;
  status?: number;
  socksReply?: number;
  message?: string;
}

interface Echo {
  url: string;
  stop(): Promise<void>;
}

/** The adapter's own server, echoing every message (`ready` awaited where the adapter has one, as Node's). */
async function echoServer(serve: AdapterServe, extra: Record<string, unknown> = {}): Promise<Echo> {
  const server = serve({ hostname: '127.0.0.1', port: 0, ...extra }, async (ws) => {
    try {
      const { readable, writable } = await ws.opened;
      await readable.pipeTo(writable);
    } catch {
      /* the client went away: nothing to echo */
    }
  }) as ReturnType<AdapterServe> & { ready?: Promise<unknown> };
  await server.ready;
  return { url: server.url, stop: () => server.close() };
}

export function proxySuite(spec: ProxySuiteSpec): void {
  const s = suite(spec.name);
  let ca: TestCa;
  let squid: RunningSquid;
  let dante: RunningProxy;
  let plain: Echo;
  let secure: Echo;
  let nameOnly: Echo;
  const portOf = (u: string): number => Number(new URL(u).port);
  const ENV = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'];

  s.before(async () => {
    for (const k of ENV) spec.setEnv(k, undefined);
    ca = makeTestCa();
    [squid, dante] = await Promise.all([startSquid({ tls: { cert: ca.cert, key: ca.key } }), startDante()]);
    plain = await echoServer(spec.serve);
    secure = await echoServer(spec.serve, spec.serverTls(ca.cert, ca.key));
    nameOnly = await echoServer(spec.serve, spec.serverTls(ca.nameOnlyCert, ca.nameOnlyKey));
  });
  s.after(async () => {
    for (const k of ENV) spec.setEnv(k, undefined);
    await Promise.allSettled([plain?.stop(), secure?.stop(), nameOnly?.stop()]);
    await Promise.allSettled([squid?.stop(), dante?.stop()]);
  });

  /** Opens, echoes text and a 100 KB binary message, closes with 1000; returns nothing or throws. */
  async function echo(url: string, opts: Record<string, unknown>): Promise<void> {
    const ws = spec.connect(url, { connectTimeout: 8000, ...opts });
    const { readable, writable } = await within(10_000, ws.opened, `opened ${url}`);
    const w = writable.getWriter();
    const r = readable.getReader();
    await w.write('through ✓');
    assert.is((await within(5000, r.read(), 'text echo')).value, 'through ✓');
    const big = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);
    await w.write(big);
    const back = (await within(5000, r.read(), 'binary echo')).value as Uint8Array;
    assert.is(back.byteLength, big.byteLength);
    assert.ok(back.every((b, i) => b === big[i]), 'binary echo intact');
    ws.close({ closeCode: 1000, reason: 'done' });
    const c = await within(5000, ws.closed, 'closed');
    assert.is(c.closeCode, 1000);
  }

  async function refusal(url: string, opts: Record<string, unknown>): Promise<Refusal> {
    const ws = spec.connect(url, { connectTimeout: 8000, ...opts });
    try {
      await within(10_000, ws.opened, `opened ${url}`);
    } catch (e) {
      return e as Refusal;
    }
    ws.close();
    throw new Error(`expected ${url} to be refused`);
  }

  const squidAuth = (): string => withCredentials(squid.url);
  const squidsAuth = (): string => withCredentials(squid.httpsUrl!);
  const danteAuth = (): string => withCredentials(dante.url);
  /** The proxy's log grew by a line naming the target's port (squid writes `127.0.0.1:port`, dante `127.0.0.1.port`). */
  async function crossed(p: RunningProxy, before: number, port: number): Promise<void> {
    // squid writes its access line when the tunnel closes: give it a moment.
    for (let i = 0; i < 40; i++) {
      if (new RegExp(`127\\.0\\.0\\.1[:.]${port}\\b|localhost:${port}\\b`).test(p.log().slice(before))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.unreachable(`the proxy's log shows no connection to port ${port}:\n${p.log().slice(before).slice(-1500)}`);
  }

  // --------------------------------------------------------------- HTTP CONNECT (squid, basic auth)

  s('HTTP CONNECT with basic auth, ws:', async () => {
    const before = squid.log().length;
    await echo(plain.url, { proxy: squidAuth() });
    await crossed(squid, before, portOf(plain.url));
    assert.match(squid.log().slice(before), /CONNECT/);
    assert.match(squid.log().slice(before), new RegExp(PROXY_USER));
  });

  s('HTTP CONNECT with basic auth, wss: (TLS to the target inside the tunnel)', async () => {
    const before = squid.log().length;
    await echo(secure.url.replace('ws:', 'wss:'), { proxy: squidAuth(), ...spec.trust(ca.ca) });
    await crossed(squid, before, portOf(secure.url));
  });

  s('wss: through the tunnel checks the certificate against the target name', async () => {
    const port = portOf(nameOnly.url);
    // The certificate names localhost only: through the proxy, wss://localhost verifies ...
    await echo(`wss://localhost:${port}/`, { proxy: squidAuth(), ...spec.trust(ca.ca) });
    // ... and wss://127.0.0.1 (same server, same tunnel) does not.
    const e = await refusal(`wss://127.0.0.1:${port}/`, { proxy: squidAuth(), ...spec.trust(ca.ca) });
    assert.ok(e instanceof spec.tlsError, `expected the adapter's TLS error, got ${String(e)}`);
  });

  s('407: no credentials, and wrong credentials', async () => {
    const none = await refusal(plain.url, { proxy: squid.url });
    assert.is(none.name, 'ProxyError');
    assert.is(none.code, 'PROXY_AUTH_REQUIRED');
    assert.is(none.hop, 'proxy');
    assert.is(none.status, 407);
    assert.match(none.message ?? '', /407/);
    assert.match(none.message ?? '', /Basic realm/);
    const wrong = await refusal(plain.url, { proxy: withCredentials(squid.url, PROXY_USER, 'nope') });
    assert.is(wrong.code, 'PROXY_AUTH_REQUIRED');
    assert.is(wrong.status, 407);
    assert.match(wrong.message ?? '', /not accepted/);
  });

  s('403: a target the proxy does not allow; 503: a target that refuses', async () => {
    const port = portOf(plain.url);
    const denied = await refusal(`ws://127.0.0.2:${port}/`, { proxy: squidAuth() });
    assert.is(denied.code, 'PROXY_REFUSED');
    assert.is(denied.hop, 'proxy');
    assert.is(denied.status, 403);
    // A closed port on 127.0.0.1: squid reports its own failed onward connection.
    const closedPort = await closedLoopbackPort();
    const down = await refusal(`ws://127.0.0.1:${closedPort}/`, { proxy: squidAuth() });
    assert.is(down.code, 'PROXY_REFUSED');
    assert.is(down.hop, 'target');
    assert.ok(down.status === 503 || down.status === 502, `status ${down.status}`);
  });

  // --------------------------------------------------------------- HTTPS proxy (TLS to squid)

  s('HTTPS proxy (TLS to the proxy), ws:', async () => {
    const before = squid.log().length;
    await echo(plain.url, { proxy: squidsAuth(), proxyTls: spec.trust(ca.ca) });
    await crossed(squid, before, portOf(plain.url));
  });

  s('HTTPS proxy, wss: (TLS inside TLS)', async () => {
    const before = squid.log().length;
    await echo(secure.url.replace('ws:', 'wss:'), { proxy: squidsAuth(), proxyTls: spec.trust(ca.ca), ...spec.trust(ca.ca) });
    await crossed(squid, before, portOf(secure.url));
  });

  s('HTTPS proxy whose certificate is not trusted: the TLS error, before any CONNECT', async () => {
    const e = await refusal(plain.url, { proxy: squidsAuth() });
    assert.ok(e instanceof spec.tlsError, `expected the adapter's TLS error, got ${String(e)}`);
  });

  // --------------------------------------------------------------- SOCKS5 (dante, username/password)

  s('SOCKS5 with username/password, ws:', async () => {
    const before = dante.log().length;
    await echo(plain.url, { proxy: danteAuth() });
    await crossed(dante, before, portOf(plain.url));
  });

  s('SOCKS5, wss: with the name resolved by the proxy (socks5h:)', async () => {
    const before = dante.log().length;
    const port = portOf(nameOnly.url);
    await echo(`wss://localhost:${port}/`, { proxy: danteAuth().replace('socks5:', 'socks5h:'), ...spec.trust(ca.ca) });
    await crossed(dante, before, port);
  });

  s('SOCKS5 refusals: no credentials, wrong password, ruleset, connection refused', async () => {
    const none = await refusal(plain.url, { proxy: dante.url });
    assert.is(none.code, 'PROXY_AUTH_REQUIRED');
    assert.is(none.hop, 'proxy');
    const wrong = await refusal(plain.url, { proxy: withCredentials(dante.url, PROXY_USER, 'nope') });
    assert.is(wrong.code, 'PROXY_AUTH_FAILED');
    assert.is(wrong.hop, 'proxy');
    const port = portOf(plain.url);
    const ruleset = await refusal(`ws://127.0.0.2:${port}/`, { proxy: danteAuth() });
    assert.is(ruleset.code, 'PROXY_REFUSED');
    assert.is(ruleset.socksReply, 2);
    assert.is(ruleset.hop, 'proxy');
    assert.match(ruleset.message ?? '', /not allowed by ruleset/);
    const down = await refusal(`ws://127.0.0.1:${await closedLoopbackPort()}/`, { proxy: danteAuth() });
    assert.is(down.code, 'PROXY_REFUSED');
    assert.is(down.socksReply, 5);
    assert.is(down.hop, 'target');
  });

  // --------------------------------------------------------------- environment

  s(`environment: ${spec.defaultProxy === 'env' ? 'read by default' : "read with proxy: 'env' only"}; NO_PROXY`, async () => {
    const port = portOf(plain.url);
    const opt = spec.defaultProxy === 'env' ? {} : { proxy: 'env' };
    try {
      spec.setEnv('HTTP_PROXY', squidAuth());
      let before = squid.log().length;
      await echo(plain.url, opt);
      await crossed(squid, before, port);
      if (spec.defaultProxy === false) {
        // Without the option the environment is ignored: the connection is direct (nothing in squid's log).
        before = squid.log().length;
        await echo(plain.url, {});
        await new Promise((r) => setTimeout(r, 300));
        assert.not.ok(squid.log().slice(before).includes(`:${port}`), 'went through the proxy without proxy: env');
      }
      // The lower-case name wins: a dead proxy in HTTP_PROXY is not used when http_proxy names a working one.
      spec.setEnv('HTTP_PROXY', `http://127.0.0.1:${await closedLoopbackPort()}`);
      spec.setEnv('http_proxy', danteAuth());
      before = dante.log().length;
      await echo(plain.url, opt);
      await crossed(dante, before, port);
      // NO_PROXY with the target's port: direct; with another port: proxied.
      spec.setEnv('http_proxy', `http://127.0.0.1:${await closedLoopbackPort()}`);
      spec.setEnv('NO_PROXY', `example.com, 127.0.0.1:${port}`);
      await echo(plain.url, opt);
      spec.setEnv('NO_PROXY', `127.0.0.1:${port + 1}`);
      const e = await refusal(plain.url, opt);
      assert.ok(!(e instanceof spec.tlsError));
      // proxy: false ignores the environment.
      await echo(plain.url, { proxy: false });
      // wss: reads HTTPS_PROXY, not HTTP_PROXY.
      spec.setEnv('NO_PROXY', undefined);
      spec.setEnv('https_proxy', squidAuth());
      before = squid.log().length;
      await echo(secure.url.replace('ws:', 'wss:'), { ...opt, ...spec.trust(ca.ca) });
      await crossed(squid, before, portOf(secure.url));
    } finally {
      for (const k of ENV) spec.setEnv(k, undefined);
    }
  });

  s('the browser-style WebSocket class (createWebSocket) through the SOCKS5 and HTTP proxies, wss:', async () => {
    for (const proxy of [danteAuth(), squidAuth()]) {
      const before = (proxy.startsWith('socks') ? dante : squid).log().length;
      const WS = spec.createWebSocket({ proxy, ...spec.trust(ca.ca) });
      const ws = new WS(secure.url.replace('ws:', 'wss:'));
      const got = await within(10_000, new Promise<string>((resolve, reject) => {
        ws.onopen = () => ws.send('class ✓');
        ws.onmessage = (e) => resolve(String(e.data));
        ws.onerror = () => reject(new Error('error event'));
      }), 'class echo');
      assert.is(got, 'class ✓');
      const closed = new Promise<{ code: number; reason: string }>((r) => (ws.onclose = r));
      ws.close(1000, 'bye');
      assert.is((await within(5000, closed, 'close')).code, 1000);
      await crossed(proxy.startsWith('socks') ? dante : squid, before, portOf(secure.url));
    }
  });

  s('a proxy that accepts and never answers: connectTimeout ends the opening, the socket is closed', async () => {
    const net = await import('node:net');
    const held: Array<import('node:net').Socket> = [];
    let closedByClient = 0;
    const silent = net.createServer((sock) => {
      held.push(sock);
      sock.resume(); // read (and drop) the request, so the client's FIN is seen
      sock.on('close', () => closedByClient++);
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const scheme of ['http', 'socks5']) {
        const started = Date.now();
        const ws = spec.connect(plain.url, { proxy: `${scheme}://127.0.0.1:${port}`, connectTimeout: 600 });
        const e = await within(3000, ws.opened.then(() => null, (x: unknown) => x as Error), 'opened');
        assert.ok(e, 'the opening failed');
        assert.match(String((e as Error).message), /time/i);
        assert.ok(Date.now() - started >= 550, 'not before the timeout');
      }
      for (let i = 0; i < 40 && closedByClient < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.is(closedByClient, 2, 'both tunnels were torn down');
    } finally {
      for (const h of held) h.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  s('a bad proxy URL throws synchronously', () => {
    assert.throws(() => spec.connect(plain.url, { proxy: 'ftp://127.0.0.1:21' }), /unsupported proxy scheme/);
  });

  s.run();
}

async function closedLoopbackPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export { PROXY_PASS };
