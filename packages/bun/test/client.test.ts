/**
 * Client-side behaviour beyond the echo pairs: the browser-style WebSocket class, custom headers, refusals,
 * TLS verification, connect refused / connect timeout / handshake timeout / abort, IPv6 literals.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HandshakeError } from '@streamsocket/handshake';
import { connect, createWebSocket, serve, TlsConnectError, WebSocket as OurWebSocket } from '../src/index.js';
import { skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { inBun, makeCerts, ourServer, type TestCerts } from './sides.js';

const T = 10_000;

/** Accepts TCP connections and never answers (neither TLS nor HTTP). */
function silentListener(): { port: number; stop(): void } {
  const held = new Set<Bun.Socket<unknown>>();
  const l = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: { open: (sk) => void held.add(sk), data() {}, close: (sk) => void held.delete(sk) },
  });
  return {
    port: l.port,
    stop() {
      l.stop(true);
      for (const sk of held) sk.terminate();
    },
  };
}

/** Resolves with the rejection of `p` (fails if it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  return within(T, p, what).then(
    () => assert.unreachable(`${what}: expected a rejection`),
    (e: unknown) => e,
  );
}

if (inBun) {
  const s = suite('bun: client');
  let certs: TestCerts;
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
        onError: (e) => errors.push(e),
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
      assert.is((e as HandshakeError).status, 401);
      assert.equal(seen, [['secret', 'https://example.test'], ['wrong', undefined]]);
      await within(T, (async () => { while (errors.length === 0) await new Promise((r) => setTimeout(r, 10)); })(), 'onError');
      assert.is((errors[0] as HandshakeError).status, 401);
    } finally {
      await server.close();
    }
  });

  s('path policy: a wrong path is answered 404', async () => {
    const server = await ourServer({ path: '/only' });
    try {
      const e = await rejection(connect(server.url + '/other').opened, '404');
      assert.is((e as HandshakeError).status, 404);
      const ok = connect(server.url + '/only');
      await within(T, ok.opened, 'right path');
      ok.close();
    } finally {
      await server.stop();
    }
  });

  s('wss: with an untrusted certificate fails with TlsConnectError; rejectUnauthorized: false skips the check', async () => {
    const server = await ourServer({ tls: certs });
    try {
      const e = await rejection(connect(server.url.replace('127.0.0.1', 'localhost')).opened, 'untrusted');
      assert.instance(e, TlsConnectError);
      assert.match((e as TlsConnectError).code, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
      const ws = connect(server.url, { rejectUnauthorized: false });
      await within(T, ws.opened, 'unverified but open');
      ws.close();
      await within(T, ws.closed, 'closed');
    } finally {
      await server.stop();
    }
  });

  s('a refused connection rejects opened', async () => {
    const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    const port = l.port;
    l.stop(true);
    const e = await rejection(connect(`ws://127.0.0.1:${port}`).opened, 'refused');
    assert.is((e as { code?: string }).code, 'ECONNREFUSED');
  });

  s('connectTimeout bounds a TLS handshake that never completes', async () => {
    // Accepts TCP but never answers the ClientHello.
    const l = silentListener();
    try {
      const t0 = Date.now();
      const e = await rejection(connect(`wss://127.0.0.1:${l.port}`, { connectTimeout: 200, ca: certs.ca }).opened, 'timeout');
      assert.match(String((e as Error).message), /timed out/);
      assert.ok(Date.now() - t0 < 3_000);
    } finally {
      l.stop();
    }
  });

  s('handshakeTimeout bounds a server that never answers the upgrade', async () => {
    const l = silentListener();
    try {
      const e = await rejection(connect(`ws://127.0.0.1:${l.port}`, { handshakeTimeout: 200 }).opened, 'timeout');
      assert.instance(e, HandshakeError);
      assert.is((e as HandshakeError).code, 'HANDSHAKE_TIMEOUT');
    } finally {
      l.stop();
    }
  });

  s('an AbortSignal cancels the connect', async () => {
    const l = silentListener();
    try {
      const ac = new AbortController();
      const ws = connect(`ws://127.0.0.1:${l.port}`, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('user gave up')), 50);
      const e = await rejection(ws.opened, 'aborted');
      assert.match((e as Error).message, /user gave up/);
    } finally {
      l.stop();
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
} else {
  skipOutside('Bun', 'client.test.ts');
}
