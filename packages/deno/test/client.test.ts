/**
 * Client-side behaviour beyond the echo pairs: the browser-style WebSocket class, custom headers, refusals,
 * TLS verification, connect refused / connect timeout / handshake timeout / abort, IPv6 literals.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HandshakeError } from '@streamsocket/handshake';
import { connect, createWebSocket, serve, TlsConnectError, WebSocket as OurWebSocket } from '../src/index.js';
import { skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { inDeno, makeCerts, ourServer, type TestCerts } from './sides.js';

const T = 10_000;

/** Resolves with the rejection of `p` (fails if it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  return within(T, p, what).then(
    () => assert.unreachable(`${what}: expected a rejection`),
    (e: unknown) => e,
  );
}

if (inDeno) {
  const s = suite('deno: client');
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

  s('wss: with an untrusted certificate fails with TlsConnectError', async () => {
    const server = await ourServer({ tls: certs });
    try {
      const e = await rejection(connect(server.url).opened, 'untrusted');
      assert.instance(e, TlsConnectError);
      assert.match((e as Error).message, /UnknownIssuer|certificate/i);
      // Deno cannot skip chain verification per connection: rejectUnauthorized: false still fails (see README).
      const e2 = await rejection(connect(server.url, { rejectUnauthorized: false }).opened, 'untrusted, rejectUnauthorized false');
      assert.instance(e2, TlsConnectError);
    } finally {
      await server.stop();
    }
  });

  s('a refused connection rejects opened', async () => {
    const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const port = l.addr.port;
    l.close();
    const e = await rejection(connect(`ws://127.0.0.1:${port}`).opened, 'refused');
    assert.match(String((e as Error).name) + String((e as Error).message), /ConnectionRefused|refused/i);
  });

  s('connectTimeout bounds a TLS handshake that never completes', async () => {
    // Accepts TCP but never answers the ClientHello.
    const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const held: Deno.Conn[] = [];
    const acceptOne = l.accept().then((c) => held.push(c), () => {});
    try {
      const t0 = Date.now();
      const e = await rejection(connect(`wss://127.0.0.1:${l.addr.port}`, { connectTimeout: 200, ca: certs.ca }).opened, 'timeout');
      assert.match(String((e as Error).message), /timed out/);
      assert.ok(Date.now() - t0 < 3_000);
    } finally {
      l.close();
      await acceptOne;
      for (const c of held) c.close();
    }
  });

  s('handshakeTimeout bounds a server that never answers the upgrade', async () => {
    const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const held: Deno.Conn[] = [];
    const acceptOne = l.accept().then((c) => held.push(c), () => {});
    try {
      const e = await rejection(connect(`ws://127.0.0.1:${l.addr.port}`, { handshakeTimeout: 200 }).opened, 'timeout');
      assert.instance(e, HandshakeError);
      assert.is((e as HandshakeError).code, 'HANDSHAKE_TIMEOUT');
    } finally {
      l.close();
      await acceptOne;
      for (const c of held) c.close();
    }
  });

  s('an AbortSignal cancels the connect', async () => {
    const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const held: Deno.Conn[] = [];
    const acceptOne = l.accept().then((c) => held.push(c), () => {});
    try {
      const ac = new AbortController();
      const ws = connect(`ws://127.0.0.1:${l.addr.port}`, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('user gave up')), 50);
      const e = await rejection(ws.opened, 'aborted');
      assert.match((e as Error).message, /user gave up/);
    } finally {
      l.close();
      await acceptOne;
      for (const c of held) c.close();
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
  skipOutside('Deno', 'client.test.ts');
}
