/**
 * Client-side behaviour beyond the echo pairs: the browser-style WebSocket class, custom headers, refusals,
 * TLS verification, connect refused / connect timeout / handshake timeout / abort, IPv6 literals.
 * Runtime-agnostic: packages/deno/test and packages/bun/test run this one copy with their adapter and the few
 * things that differ by runtime (a silent TCP listener in its socket API, how a refusal and an untrusted
 * certificate are reported, whether verification can be skipped per connection).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './pair-suite.js';

const T = 10_000;

interface Opened { readable: ReadableStream<string | Uint8Array>; writable: WritableStream<string | Uint8Array> }
interface AdapterStream { opened: Promise<Opened>; closed: Promise<{ closeCode: number; reason: string }>; close(): void }
interface RequestLike { headers: { get(name: string): string | undefined } }
/** The browser-style WebSocket as far as this suite uses it. */
interface BrowserWebSocket {
  readonly protocol: string;
  onopen: ((e: Event) => void) | null;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: Event) => void) | null;
  onclose: ((e: CloseEvent) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
type BrowserWebSocketClass = new (url: string, protocols?: string | string[]) => BrowserWebSocket;
type HandshakeErrorLike = Error & { status: number; code: string };
/** What this suite needs from an adapter and its runtime. */
export interface ClientSuiteSpec {
  connect(url: string, options?: Record<string, unknown>): AdapterStream;
  serve(
    options: { hostname: string; port: number; onRequest: (req: RequestLike) => { status: number; body: string } | undefined; onError: (e: unknown) => void },
    handler: (ws: AdapterStream) => unknown,
  ): { url: string; close(): Promise<void> };
  createWebSocket(options: { ca: string }): BrowserWebSocketClass;
  WebSocket: BrowserWebSocketClass;
  TlsConnectError: abstract new (...args: never[]) => Error;
  /** From @streamsocket/handshake (the testkit has no package dependencies of its own). */
  HandshakeError: abstract new (...args: never[]) => HandshakeErrorLike;
  /** The test package's echo server (protocol 'chat'); `extra` are serve() options. */
  ourServer(extra?: Record<string, unknown>): Promise<{ url: string; stop(): Promise<void> }>;
  makeCerts(): Promise<{ ca: string; cert: string; key: string }>;
  /** Accepts TCP connections and never answers (neither TLS nor HTTP). */
  silentListener(): Promise<{ port: number; stop(): Promise<void> | void }>;
  /** A loopback port nobody listens on. */
  closedPort(): number;
  assertRefused(e: unknown): void;
  assertUntrusted(e: unknown): void;
  /** rejectUnauthorized: false connects to an untrusted server. */
  canSkipVerification: boolean;
}

/** Resolves with the rejection of `p` (fails if it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  return within(T, p, what).then(
    () => assert.unreachable(`${what}: expected a rejection`),
    (e: unknown) => e,
  );
}

export function clientSuite(name: string, spec: ClientSuiteSpec): void {
  const { connect, createWebSocket, serve, TlsConnectError, HandshakeError, WebSocket: OurWebSocket, ourServer, makeCerts } = spec;
  const s = suite(name);
  let certs: { ca: string; cert: string; key: string };
  s.before(async () => {
    certs = await makeCerts();
  });

  s('the WebSocket class (browser-style) talks to our server', async () => {
    const server = await ourServer();
    try {
      const ws = new OurWebSocket(server.url, 'chat');
      const events: string[] = [];
      const done = new Promise<{ code: number; wasClean: boolean }>((resolve) => {
        ws.onopen = () => {
          events.push('open');
          ws.send('ünïcode');
        };
        ws.onmessage = (e) => {
          events.push(`message:${String((e as MessageEvent).data)}`);
          ws.close(1000, 'done');
        };
        ws.onclose = (e) => resolve({ code: (e as CloseEvent).code, wasClean: (e as CloseEvent).wasClean });
      });
      const r = await within(T, done, 'close event');
      assert.equal(events, ['open', 'message:ünïcode']);
      assert.is(ws.protocol, 'chat');
      assert.equal(r, { code: 1000, wasClean: true });
    } finally {
      await server.stop();
    }
  });

  s('createWebSocket({ ca }) connects over wss:', async () => {
    const server = await ourServer({ tls: certs });
    try {
      const WS = createWebSocket({ ca: certs.ca });
      const ws = new WS(server.url.replace('127.0.0.1', 'localhost'));
      const echoed = await within(
        T,
        new Promise<string>((resolve, reject) => {
          ws.onopen = () => ws.send('over tls');
          ws.onmessage = (e) => resolve(String((e as MessageEvent).data));
          ws.onerror = () => reject(new Error('error event'));
        }),
        'echo over wss',
      );
      assert.is(echoed, 'over tls');
      ws.close();
    } finally {
      await server.stop();
    }
  });

  s('custom headers and origin reach the server; onRequest can refuse', async () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    const errors: unknown[] = [];
    const server = serve(
      {
        hostname: '127.0.0.1',
        port: 0,
        onRequest: (req) => {
          seen.push([req.headers.get('x-token'), req.headers.get('origin')]);
          return req.headers.get('x-token') === 'secret' ? undefined : { status: 401, body: 'no token' };
        },
        onError: (e: unknown) => errors.push(e),
      },
      (ws) => ws.close(),
    );
    try {
      const ok = connect(server.url, { headers: { 'X-Token': 'secret' }, origin: 'https://example.test' });
      await within(T, ok.opened, 'accepted');
      ok.close();
      const refused = connect(server.url, { headers: [['X-Token', 'wrong']] });
      const e = await rejection(refused.opened, 'refused');
      assert.instance(e, HandshakeError);
      assert.is((e as HandshakeErrorLike).status, 401);
      assert.equal(seen, [['secret', 'https://example.test'], ['wrong', undefined]]);
      await within(T, (async () => { while (errors.length === 0) await new Promise((r) => setTimeout(r, 10)); })(), 'onError');
      assert.is((errors[0] as HandshakeErrorLike).status, 401);
    } finally {
      await server.close();
    }
  });

  s('path policy: a wrong path is answered 404', async () => {
    const server = await ourServer({ path: '/only' });
    try {
      const e = await rejection(connect(server.url + '/other').opened, '404');
      assert.is((e as HandshakeErrorLike).status, 404);
      const ok = connect(server.url + '/only');
      await within(T, ok.opened, 'right path');
      ok.close();
    } finally {
      await server.stop();
    }
  });

  s('wss: with an untrusted certificate fails with TlsConnectError', async () => {
    const server = await ourServer({ tls: certs });
    try {
      const e = await rejection(connect(server.url).opened, 'untrusted');
      assert.instance(e, TlsConnectError);
      spec.assertUntrusted(e);
      // rejectUnauthorized: false skips chain verification where the runtime can; where it cannot per connection
      // (Deno, see its README) it still fails.
      const ws = connect(server.url, { rejectUnauthorized: false });
      if (spec.canSkipVerification) {
        await within(T, ws.opened, 'unverified but open');
        ws.close();
        await within(T, ws.closed, 'closed');
      } else {
        assert.instance(await rejection(ws.opened, 'untrusted, rejectUnauthorized false'), TlsConnectError);
      }
    } finally {
      await server.stop();
    }
  });

  s('a refused connection rejects opened', async () => {
    const e = await rejection(connect(`ws://127.0.0.1:${spec.closedPort()}`).opened, 'refused');
    spec.assertRefused(e);
  });

  s('connectTimeout bounds a TLS handshake that never completes', async () => {
    // Accepts TCP but never answers the ClientHello.
    const l = await spec.silentListener();
    try {
      const t0 = Date.now();
      const e = await rejection(connect(`wss://127.0.0.1:${l.port}`, { connectTimeout: 200, ca: certs.ca }).opened, 'timeout');
      assert.match(String((e as Error).message), /timed out/);
      assert.ok(Date.now() - t0 < 3_000);
    } finally {
      await l.stop();
    }
  });

  s('handshakeTimeout bounds a server that never answers the upgrade', async () => {
    const l = await spec.silentListener();
    try {
      const e = await rejection(connect(`ws://127.0.0.1:${l.port}`, { handshakeTimeout: 200 }).opened, 'timeout');
      assert.instance(e, HandshakeError);
      assert.is((e as HandshakeErrorLike).code, 'HANDSHAKE_TIMEOUT');
    } finally {
      await l.stop();
    }
  });

  s('an AbortSignal cancels the connect', async () => {
    const l = await spec.silentListener();
    try {
      const ac = new AbortController();
      const ws = connect(`ws://127.0.0.1:${l.port}`, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('user gave up')), 50);
      const e = await rejection(ws.opened, 'aborted');
      assert.match((e as Error).message, /user gave up/);
    } finally {
      await l.stop();
    }
  });

  s('ws:// with an IPv6 literal', async () => {
    const server = await ourServer({ hostname: '::1' });
    try {
      assert.match(server.url, /^ws:\/\/\[::1\]:\d+$/);
      const ws = connect(server.url);
      const { readable, writable } = await within(T, ws.opened, 'open');
      const w = writable.getWriter();
      await w.write('v6');
      const r = readable.getReader();
      assert.is((await within(T, r.read(), 'echo')).value, 'v6');
      ws.close();
      await ws.closed;
    } finally {
      await server.stop();
    }
  });

  s.run();
}
