/** wss: with a certificate made at run time: trusted via `ca`, unverified via rejectUnauthorized:false, refused. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serve, connect, createWebSocket, TlsConnectError, type WebSocketServer } from '../src/index.js';
import { within, rejection, echo, bytes, equalBytes, hasIPv6 } from './helpers.js';
import { makeCert, type TestCert } from './certs.js';

let cert: TestCert;
let other: TestCert;
let server: WebSocketServer;

test.before(async () => {
  cert = makeCert();
  other = makeCert(true); // a second, unrelated certificate (via the node:crypto fallback: exercises it too)
  server = serve({ hostname: '127.0.0.1', port: 0, tls: { cert: cert.cert, key: cert.key }, protocols: ['chat'] }, (ws) => void echo(ws));
  await server.ready;
});
test.after(async () => {
  await within(server.close(), 8000, 'server close');
});

async function roundTrip(ws: ReturnType<typeof connect>): Promise<void> {
  const { readable, writable } = await within(ws.opened, 5000, 'opened');
  const w = writable.getWriter();
  const r = readable.getReader();
  await w.write('sécure ✓');
  assert.is((await within(r.read())).value, 'sécure ✓');
  const b = bytes(200_000, 11);
  await w.write(b);
  assert.ok(equalBytes((await within(r.read())).value as Uint8Array, b));
  ws.close({ closeCode: 1000 });
  assert.is((await within(ws.closed)).closeCode, 1000);
}

test('wss: trusted through ca (IP SAN 127.0.0.1)', async () => {
  console.log(`  (certificate made with ${cert.via})`);
  await roundTrip(connect(`wss://127.0.0.1:${server.port}/`, { ca: cert.cert, protocols: ['chat'] }));
});

test('wss: trusted through ca, by DNS name with servername', async () => {
  await roundTrip(connect(`wss://127.0.0.1:${server.port}/`, { ca: cert.cert, servername: 'localhost' }));
});

test('wss: rejectUnauthorized:false accepts an unverifiable certificate', async () => {
  await roundTrip(connect(`wss://127.0.0.1:${server.port}/`, { rejectUnauthorized: false }));
});

test('wss: an untrusted certificate fails with a clear TlsConnectError', async () => {
  const ws = connect(`wss://127.0.0.1:${server.port}/`);
  const e = (await rejection(ws.opened)) as TlsConnectError;
  assert.instance(e, TlsConnectError);
  assert.match(e.message, /127\.0\.0\.1:\d+/);
  assert.match(e.message, /self[- ]signed|unable to verify/i);
  assert.match(e.message, /pass `ca`/);
  assert.ok(e.code.length > 0);
  // The wrong CA fails the same way.
  const e2 = await rejection(connect(`wss://127.0.0.1:${server.port}/`, { ca: other.cert }).opened);
  assert.instance(e2, TlsConnectError);
  // closed rejects with 1006 too.
  const c = (await rejection(ws.closed)) as { closeCode: number };
  assert.is(c.closeCode, 1006);
});

test('wss: WebSocket class bound to TLS options', async () => {
  const WS = createWebSocket({ ca: cert.cert });
  const ws = new WS(`wss://127.0.0.1:${server.port}/`, ['chat']);
  const got = await within(new Promise<string>((resolve, reject) => {
    ws.onopen = () => ws.send('hello');
    ws.onmessage = (ev) => resolve((ev as MessageEvent).data as string);
    ws.onerror = () => reject(new Error('error event'));
  }));
  assert.is(got, 'hello');
  assert.is(ws.protocol, 'chat');
  const closed = new Promise<CloseEvent>((r) => (ws.onclose = (ev) => r(ev as CloseEvent)));
  ws.close(1000, 'ok');
  const ev = await within(closed);
  assert.is(ev.code, 1000);
  assert.is(ev.wasClean, true);
});

test('wss: over IPv6 (wss://[::1]:port/, IP SAN ::1)', async () => {
  if (!(await hasIPv6())) return console.log('  (no IPv6 loopback: skipped)');
  const v6 = serve({ hostname: '::1', port: 0, tls: { cert: cert.cert, key: cert.key } }, (ws) => void echo(ws));
  await v6.ready;
  try {
    await roundTrip(connect(`wss://[::1]:${v6.port}/`, { ca: cert.cert }));
  } finally {
    await within(v6.close(), 8000, 'v6 close');
  }
});

test.run();

test('wss: a client speaking plain HTTP fails its TLS handshake, is reported to onError and released', async () => {
  const { default: net } = await import('node:net');
  const errors: Array<{ e: unknown; request: unknown }> = [];
  const s = serve({ hostname: '127.0.0.1', port: 0, tls: { cert: cert.cert, key: cert.key }, onError: (e, info) => errors.push({ e, request: info.request }) }, () => {});
  await s.ready;
  try {
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(new Promise((r) => sock.once('close', r)), 5000, 'server closed the socket');
    assert.is(errors.length, 1);
    assert.is(errors[0]!.request, null);
    assert.instance(errors[0]!.e, Error);
  } finally {
    await within(s.close(), 8000);
  }
});
