/** Server lifecycle and failure paths: close() with 1001, refusals, caps and timeouts, client timeout/abort. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import http from 'node:http';
import { createRequire } from 'node:module';
import { serve, connect, WebSocket, HandshakeError, type WebSocketStream } from '../src/index.js';
import { within, rejection, echo, until } from './helpers.js';

const load = createRequire(import.meta.url);
const WS = (load('ws') as typeof import('ws')).WebSocket;

function wsClose(c: InstanceType<typeof WS>): Promise<{ code: number; reason: string }> {
  return within(new Promise((resolve) => c.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))), 8000, 'ws close');
}

test('close() sends 1001 to every client, resolves when all sockets are gone, and releases the port', async () => {
  const server = serve({ hostname: '127.0.0.1', port: 0 }, (ws) => void echo(ws));
  await server.ready;
  const port = server.port;
  const url = `ws://127.0.0.1:${port}/`;
  const a = connect(url);
  const b = new WebSocket(url);
  const c = new WS(url);
  await within(a.opened);
  await within(new Promise((r) => (b.onopen = r)));
  await within(new Promise((r) => c.once('open', r)));
  const cClosed = wsClose(c);
  const bClosed = within(new Promise<CloseEvent>((r) => (b.onclose = (ev) => r(ev as CloseEvent))));
  // Also one idle TCP connection stuck before its handshake.
  const idle = net.connect(port, '127.0.0.1');
  idle.on('error', () => {});
  await within(new Promise((r) => idle.once('connect', r)));
  await until(() => server.connections === 3 && server.pendingHandshakes === 1, 3000, '3 open + 1 pending');

  const t0 = Date.now();
  await within(server.close({ reason: 'maintenance' }), 8000, 'server close');
  assert.ok(Date.now() - t0 < 3000, 'close() did not need its fallback deadline');
  const ca = await within(a.closed);
  assert.equal({ code: ca.closeCode, reason: ca.reason }, { code: 1001, reason: 'maintenance' });
  const cb = await bClosed;
  assert.is(cb.code, 1001);
  assert.is(cb.wasClean, true);
  assert.equal(await cClosed, { code: 1001, reason: 'maintenance' });
  assert.is(server.connections, 0);
  // Port released: we can listen on it again.
  const again = net.createServer();
  await within(new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen(port, '127.0.0.1', resolve);
  }), 2000, 'relisten');
  await new Promise((r) => again.close(r));
  // close() is idempotent.
  await server.close();
});

test('refusals reach both clients with their status: 403 origin, 426 version, hook refusal', async () => {
  const server = serve({
    hostname: '127.0.0.1', port: 0,
    origins: ['https://good.example'],
    onRequest: async (req) => (req.target.startsWith('/private') ? { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'log in' } : undefined),
  }, (ws) => void echo(ws));
  await server.ready;
  const base = `ws://127.0.0.1:${server.port}`;
  try {
    const status = (url: string, opts: ConstructorParameters<typeof WS>[2]) =>
      within(new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
        const c = new WS(url, opts);
        c.once('unexpected-response', (_q, res) => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
          res.resume();
          c.terminate();
        });
        c.once('open', () => reject(new Error('opened')));
        c.once('error', () => {});
      }));
    assert.is((await status(`${base}/`, { origin: 'https://evil.example' })).status, 403);
    const v = await status(`${base}/`, { origin: 'https://good.example', protocolVersion: 8 });
    assert.is(v.status, 426);
    assert.is(v.headers['sec-websocket-version'], '13');
    const h = await status(`${base}/private`, { origin: 'https://good.example' });
    assert.is(h.status, 401);
    assert.is(h.headers['www-authenticate'], 'Bearer');

    const e1 = (await rejection(connect(`${base}/`, { origin: 'https://evil.example' }).opened)) as HandshakeError;
    assert.instance(e1, HandshakeError);
    assert.is(e1.status, 403);
    const e2 = (await rejection(connect(`${base}/private`, { origin: 'https://good.example' }).opened)) as HandshakeError;
    assert.is(e2.status, 401);
    // Our WebSocket class: error then close 1006, like a browser.
    const ws = new WebSocket(`${base}/`);
    const ev = await within(new Promise<CloseEvent>((r) => (ws.onclose = (e) => r(e as CloseEvent))));
    assert.is(ev.code, 1006);
    assert.is(server.pendingHandshakes, 0);
  } finally {
    await within(server.close(), 8000);
  }
});

test('our client: custom headers reach the hook, its 101 headers come back; a 426 from elsewhere keeps its status', async () => {
  const server = serve({
    hostname: '127.0.0.1', port: 0,
    onRequest: (req) => (req.headers.get('x-token') === 'abc' ? { headers: { 'X-Seen': 'abc' } } : { status: 403 }),
  }, (ws) => void echo(ws));
  await server.ready;
  const other = http.createServer();
  other.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  try {
    const ws = connect(`ws://127.0.0.1:${server.port}/`, { headers: { 'X-Token': 'abc' } });
    await within(ws.opened);
    assert.is(ws.response?.headers.get('x-seen'), 'abc');
    ws.close();
    await within(ws.closed);
    const e = (await rejection(connect(`ws://127.0.0.1:${server.port}/`, { headers: [['X-Token', 'nope']] }).opened)) as HandshakeError;
    assert.is(e.status, 403);
    const e426 = (await rejection(connect(`ws://127.0.0.1:${(other.address() as net.AddressInfo).port}/`).opened)) as HandshakeError;
    assert.instance(e426, HandshakeError);
    assert.is(e426.status, 426);
  } finally {
    other.closeAllConnections();
    await new Promise((r) => other.close(r));
    await within(server.close(), 8000);
  }
});

test('maxPendingHandshakes: at the cap the oldest pending connection is dropped and the new one served; handshakeTimeout closes idle ones', async () => {
  const server = serve({ hostname: '127.0.0.1', port: 0, maxPendingHandshakes: 2, handshakeTimeout: 600 }, (ws) => void echo(ws));
  await server.ready;
  try {
    const idle = await Promise.all([0, 1].map(async () => {
      const s = net.connect(server.port, '127.0.0.1');
      s.on('error', () => {});
      await within(new Promise((r) => s.once('connect', r)));
      return s;
    }));
    await until(() => server.pendingHandshakes === 2, 3000, '2 pending');
    const closedAt = idle.map((s) => new Promise<number>((r) => s.once('close', () => r(Date.now()))));
    // A client that completes gets in; the oldest idle socket makes room for it.
    const t0 = Date.now();
    const first = connect(`ws://127.0.0.1:${server.port}/`);
    await within(first.opened);
    const dropped = await within(closedAt[0]!, 1000, 'oldest dropped');
    assert.ok(dropped - t0 < 500, 'dropped at once');
    assert.is(server.stats.evicted, 1);
    first.close();
    await within(first.closed);
    // The other idle one is closed by the handshake timeout.
    await within(closedAt[1]!, 3000, 'idle closed');
    await until(() => server.pendingHandshakes === 0, 2000, 'no pending');
    assert.is(server.stats.handshakeTimeouts, 1);
    const ws = connect(`ws://127.0.0.1:${server.port}/`);
    await within(ws.opened);
    ws.close();
    await within(ws.closed);
  } finally {
    await within(server.close(), 8000);
  }
});

test('a handler that throws closes its session with 1011; webSocket:true hands out WebSocket objects', async () => {
  const server = serve({ hostname: '127.0.0.1', port: 0 }, () => {
    throw new Error('boom');
  });
  const server2 = serve({ hostname: '127.0.0.1', port: 0, webSocket: true }, (ws: WebSocket) => {
    ws.onmessage = (ev) => ws.send(`echo:${String((ev as MessageEvent).data)}`);
  });
  await Promise.all([server.ready, server2.ready]);
  try {
    const ws = connect(`ws://127.0.0.1:${server.port}/`);
    const c = await within(ws.closed);
    assert.is(c.closeCode, 1011);

    const c2 = connect(`ws://127.0.0.1:${server2.port}/`);
    const { readable, writable } = await within(c2.opened);
    await writable.getWriter().write('hi');
    assert.is((await within(readable.getReader().read())).value, 'echo:hi');
    c2.close();
    await within(c2.closed);
  } finally {
    await within(Promise.all([server.close(), server2.close()]), 8000);
  }
});

test('connect timeout covers TCP, TLS and the handshake; AbortSignal aborts; no socket is leaked', async () => {
  // A server that accepts TCP and then says nothing (neither HTTP nor TLS).
  const silent = net.createServer();
  const peers: net.Socket[] = [];
  silent.on('connection', (s) => { peers.push(s); s.on('error', () => {}); s.resume(); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    for (const scheme of ['ws', 'wss']) {
      const t0 = Date.now();
      const ws = connect(`${scheme}://127.0.0.1:${port}/`, { connectTimeout: 300 });
      const e = (await rejection(ws.opened, 3000)) as Error;
      const dt = Date.now() - t0;
      assert.ok(dt >= 250 && dt < 2000, `${scheme}: timed out after ${dt} ms`);
      assert.match(String((e as { code?: string }).code ?? e.message), /TIMEOUT|timed out/i);
      assert.is(((await rejection(ws.closed)) as { closeCode: number }).closeCode, 1006);
    }
    const ac = new AbortController();
    const ws = connect(`ws://127.0.0.1:${port}/`, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('changed my mind')), 50);
    const e = (await rejection(ws.opened, 3000)) as Error;
    assert.is(e.message, 'changed my mind');
    // Every connection the silent server saw was closed by the client.
    await within(Promise.all(peers.map((s) => new Promise((r) => (s.destroyed ? r(null) : s.once('close', r))))), 3000, 'peer sockets closed');
    assert.is(peers.length, 3);
  } finally {
    for (const s of peers) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

test('bad URLs throw synchronously; refused TCP connection rejects opened', async () => {
  assert.throws(() => connect('ftp://127.0.0.1/'));
  assert.throws(() => connect('ws://127.0.0.1:1/#frag'));
  assert.throws(() => new WebSocket('not a url'));
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const e = (await rejection(connect(`ws://127.0.0.1:${port}/`).opened)) as { code?: string };
  assert.is(e.code, 'ECONNREFUSED');
});

test('ws://[::1]:port/ dials IPv6 literals', async () => {
  const server = serve({ hostname: '::1', port: 0 }, (ws: WebSocketStream) => void echo(ws));
  try {
    await server.ready;
  } catch {
    console.log('  (no IPv6 loopback: skipped)');
    return;
  }
  try {
    const ws = connect(`ws://[::1]:${server.port}/v6`);
    const { readable, writable } = await within(ws.opened);
    await writable.getWriter().write('six');
    assert.is((await within(readable.getReader().read())).value, 'six');
    ws.close();
    await within(ws.closed);
  } finally {
    await within(server.close(), 8000);
  }
});

test.run();

test('onError hears refused handshakes (request null) and handler failures (with the request); url and closed', async () => {
  const errors: Array<{ e: unknown; target: string | undefined; port: number | undefined }> = [];
  const onError = (e: unknown, info: { request: { target: string } | null; remotePort: number | undefined }): void => {
    errors.push({ e, target: info.request?.target, port: info.remotePort });
    throw new Error('a throwing hook is contained');
  };
  const server = serve({ hostname: '127.0.0.1', port: 0, path: '/ok', onError }, () => {
    throw new Error('handler bug');
  });
  await server.ready;
  try {
    assert.is(server.url, `ws://127.0.0.1:${server.port}`);
    const refused = await rejection(connect(`${server.url}/nope`).opened);
    assert.is((refused as HandshakeError).status, 404);
    await until(() => errors.length === 1);
    assert.instance(errors[0]!.e, HandshakeError);
    assert.is(errors[0]!.target, undefined);
    assert.ok(errors[0]!.port! > 0, 'the peer port is known while the connection is open');
    const ws = connect(`${server.url}/ok`);
    assert.is((await within(ws.closed)).closeCode, 1011);
    await until(() => errors.length === 2);
    assert.match((errors[1]!.e as Error).message, /handler bug/);
    assert.is(errors[1]!.target, '/ok');
  } finally {
    await within(server.close(), 8000);
  }
  await within(server.closed, 1000, 'closed resolves after close()');
  const v6 = serve({ hostname: '::1', port: 0 }, () => {});
  await v6.ready;
  assert.is(v6.url, `ws://[::1]:${v6.port}`);
  await within(v6.close(), 8000);
});
