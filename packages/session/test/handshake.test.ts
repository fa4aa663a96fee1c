import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair, WebSocketError, type RefusedError } from '../src/index.js';
import { HandshakeError, parseRequestHead, HeadReader } from '@streamsocket/handshake';
import { deflateAvailable } from '@streamsocket/codec';
import { openPair, settle, within, sleep, readAll } from './helpers.js';

// Tests that need node:zlib are registered as skipped where it is missing (browsers), rather than passing without
// asserting anything; the declined-offer path is what those runtimes test instead.

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Writes raw request bytes to an accept()ing server and returns the raw response text. */
async function rawExchange(request: string, serverOpts = {}) {
  const [c, s] = createPipePair();
  const server = accept(s, serverOpts);
  const w = c.writable.getWriter();
  void w.write(enc.encode(request)).catch(() => {});
  let text = '';
  const r = c.readable.getReader();
  for (;;) {
    const res = await settle(r.read());
    if (!res.ok || res.value.done) break;
    text += dec.decode(res.value.value);
  }
  const opened = await settle(server.opened);
  const closed = await settle(server.closed);
  return { text, opened, closed };
}

const GOOD = 'GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

test('426: wrong version answered with Sec-WebSocket-Version: 13, connection closed', async () => {
  const { text, opened, closed } = await rawExchange(GOOD + 'Sec-WebSocket-Version: 8\r\n\r\n');
  assert.match(text, /^HTTP\/1.1 426 /);
  assert.match(text, /Sec-WebSocket-Version: 13\r\n/i);
  assert.not.ok(opened.ok);
  assert.instance((opened as { error: unknown }).error, HandshakeError);
  assert.is((opened as { error: HandshakeError }).error.status, 426);
  assert.not.ok(closed.ok);
  assert.is((closed as { error: WebSocketError }).error.closeCode, 1006);
});

test('431: head too large; 400: malformed head; 405: not GET', async () => {
  const big = await rawExchange(GOOD + 'X-Big: ' + 'a'.repeat(600) + '\r\n\r\n', { maxHeadSize: 256 });
  assert.match(big.text, /^HTTP\/1.1 431 /);
  const many = await rawExchange(GOOD + 'A: 1\r\nB: 2\r\nC: 3\r\n\r\n', { maxHeaderCount: 4 });
  assert.match(many.text, /^HTTP\/1.1 431 /);
  const bad = await rawExchange('GET / HTTP/1.1\nHost: h\n\n');
  assert.match(bad.text, /^HTTP\/1.1 400 /);
  const post = await rawExchange(GOOD.replace('GET', 'POST') + 'Sec-WebSocket-Version: 13\r\n\r\n');
  assert.match(post.text, /^HTTP\/1.1 405 /);
});

test('403: origin policy; the client gets a HandshakeError with the status', async () => {
  const [c, s] = createPipePair();
  const server = accept(s, { origins: ['https://good.example'] });
  const client = connect(c, 'ws://h/', { origin: 'https://evil.example' });
  const co = await settle(client.opened);
  assert.not.ok(co.ok);
  const e = (co as { error: RefusedError }).error;
  assert.instance(e, HandshakeError);
  assert.is(e.status, 403);
  assert.match(e.body, /origin/i);
  const so = await settle(server.opened);
  assert.is((so as { error: HandshakeError }).error.code, 'FORBIDDEN_ORIGIN');
  const cc = await settle(client.closed);
  assert.not.ok(cc.ok);
  assert.instance((cc as { error: unknown }).error, WebSocketError);
  assert.is(client.readyState, 3);
});

test('404: path policy', async () => {
  const [c, s] = createPipePair();
  accept(s, { path: '/only' });
  const r = await settle(connect(c, 'ws://h/other').opened);
  assert.is((r as { error: HandshakeError }).error.status, 404);
});

test('onRequest refusal: status, headers and body reach the client', async () => {
  const hook = async (req: { headers: { get(n: string): string | undefined } }) => {
    await sleep(1);
    if (req.headers.get('authorization') !== 'Bearer ok') {
      return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'who are you?' };
    }
    return undefined;
  };
  const raw = await rawExchange(GOOD + 'Sec-WebSocket-Version: 13\r\n\r\n', { onRequest: hook });
  assert.match(raw.text, /^HTTP\/1.1 401 Unauthorized\r\n/);
  assert.match(raw.text, /WWW-Authenticate: Bearer\r\n/);
  assert.match(raw.text, /\r\n\r\nwho are you\?$/);
  assert.is((raw.opened as { error: HandshakeError }).error.status, 401);
  assert.is((raw.opened as { error: HandshakeError }).error.code, 'REFUSED');

  const [c, s] = createPipePair();
  accept(s, { onRequest: hook });
  const r = await settle(connect(c, 'ws://h/').opened);
  const e = (r as { error: RefusedError }).error;
  assert.instance(e, HandshakeError);
  assert.is(e.status, 401);
  assert.is(e.body, 'who are you?', 'the refusal body reaches the client');

  const ok = await openPair({ onRequest: hook }, { headers: { Authorization: 'Bearer ok' } });
  ok.client.close();
  await within(ok.server.closed);
});

test('onRequest may add headers to the 101; a throwing hook answers 500', async () => {
  const { client, server } = await openPair({ onRequest: () => ({ headers: [['Set-Cookie', 'a=b']] }), headers: { 'X-Server': 'test' } });
  assert.is(client.response!.headers.get('set-cookie'), 'a=b');
  assert.is(client.response!.headers.get('x-server'), 'test');
  client.close();
  await within(server.closed);
  const boom = await rawExchange(GOOD + 'Sec-WebSocket-Version: 13\r\n\r\n', {
    onRequest: () => {
      throw new Error('db down');
    },
  });
  assert.match(boom.text, /^HTTP\/1.1 500 /);
  assert.is((boom.opened as { error: Error }).error.message, 'db down');
  const bad = await rawExchange(GOOD + 'Sec-WebSocket-Version: 13\r\n\r\n', { onRequest: () => ({ status: 42 }) });
  assert.match(bad.text, /^HTTP\/1.1 500 /, 'an unusable refusal still gets an answer');
  const typed = await rawExchange(GOOD + 'Sec-WebSocket-Version: 13\r\n\r\n', {
    onRequest: () => {
      throw new HandshakeError(429, 'SLOW_DOWN', 'too many');
    },
  });
  assert.match(typed.text, /^HTTP\/1.1 429 /);
});

test('subprotocols: server preference, selector function, none in common', async () => {
  const a = await openPair({ protocols: ['v2', 'v1'] }, { protocols: ['v1', 'v2'] });
  assert.is(a.co.protocol, 'v2');
  a.client.close();
  const b = await openPair({ protocols: (offered: string[]) => offered[offered.length - 1] }, { protocols: ['x', 'y'] });
  assert.is(b.co.protocol, 'y');
  b.client.close();
  const c = await openPair({ protocols: ['z'] }, { protocols: ['x'] });
  assert.is(c.co.protocol, '');
  c.client.close();
  await within(Promise.all([a.server.closed, b.server.closed, c.server.closed]));
});

test('permessage-deflate negotiated end to end (where zlib exists)', async () => {
  const { server, client, so, co } = await openPair({ deflate: true }, { deflate: { clientMaxWindowBits: true } });
  if (deflateAvailable) {
    assert.match(co.extensions, /permessage-deflate/);
    assert.is(so.extensions, co.extensions);
    assert.is(client.extensions, co.extensions);
  } else {
    assert.is(co.extensions, '');
  }
  const big = 'compress me '.repeat(10_000);
  const w = co.writable.getWriter();
  void w.write(big);
  void w.write(new Uint8Array(5000).fill(7));
  const r = so.readable.getReader();
  assert.is((await within(r.read())).value, big);
  assert.is(((await within(r.read())).value as Uint8Array).byteLength, 5000);
  const sw = so.writable.getWriter();
  void sw.write(big);
  const cr = co.readable.getReader();
  assert.is((await within(cr.read())).value, big);
  client.close({ closeCode: 1000 });
  await within(Promise.all([client.closed, server.closed]));
});

test('permessage-deflate: not offered by the client -> not used; offered but server off -> not used', async () => {
  const a = await openPair({ deflate: true }, {});
  assert.is(a.co.extensions, '');
  a.client.close();
  const b = await openPair({}, { deflate: true });
  assert.is(b.co.extensions, '');
  b.client.close();
  await within(Promise.all([a.server.closed, b.server.closed]));
});

test('permessage-deflate: threshold 0, empty messages, fragmented compressed messages, both directions', async () => {
  const { server, client, so, co } = await openPair(
    { deflate: { threshold: 0 }, fragmentSize: 100 },
    { deflate: { threshold: 0 }, fragmentSize: 64 },
  );
  const msgs: (string | Uint8Array)[] = ['', 'a', new Uint8Array(0), 'x'.repeat(5000), new Uint8Array(3000).fill(1), '', 'end'];
  const w = co.writable.getWriter();
  for (const m of msgs) void w.write(m);
  const r = so.readable.getReader();
  for (const m of msgs) {
    const got = (await within(r.read())).value!;
    if (typeof m === 'string') assert.is(got, m);
    else assert.equal(Array.from(got as Uint8Array), Array.from(m));
  }
  const sw = so.writable.getWriter();
  for (const m of msgs) void sw.write(m);
  const cr = co.readable.getReader();
  for (const m of msgs) {
    const got = (await within(cr.read())).value!;
    if (typeof m === 'string') assert.is(got, m);
    else assert.is((got as Uint8Array).byteLength, m.byteLength);
  }
  client.close();
  await within(Promise.all([client.closed, server.closed]));
});

(deflateAvailable ? test : test.skip)('inflated size is bounded by maxMessageSize (zip bomb -> 1009)', async () => {
  const { server, client, co } = await openPair({ deflate: true, maxMessageSize: 10_000 }, { deflate: true });
  const w = co.writable.getWriter();
  void w.write(new Uint8Array(50_000)); // compresses to a few dozen bytes, inflates past the limit
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  assert.is(((r as { error: { cause: { closeCode: number } } }).error.cause).closeCode, 1009);
  await settle(client.closed);
});

test('handshake timeout (server): a client that never finishes its head', async () => {
  const [c, s] = createPipePair();
  const server = accept(s, { handshakeTimeout: 40 });
  void c.writable.getWriter().write(enc.encode('GET / HTTP/1.1\r\n')).catch(() => {});
  const r = await settle(server.opened);
  assert.not.ok(r.ok);
  assert.is((r as { error: HandshakeError }).error.code, 'HANDSHAKE_TIMEOUT');
  // The connection was closed: the client's read ends.
  const rr = await settle(c.readable.getReader().read());
  assert.ok(!rr.ok || rr.value.done);
});

test('handshake timeout (client): a server that never answers', async () => {
  const [c] = createPipePair();
  const client = connect(c, 'ws://h/', { handshakeTimeout: 40 });
  const r = await settle(client.opened);
  assert.not.ok(r.ok);
  const e = (r as { error: HandshakeError }).error;
  assert.instance(e, HandshakeError);
  assert.is(e.code, 'HANDSHAKE_TIMEOUT');
  assert.is(e.status, 0);
});

test('abort signal aborts the handshake (client and server); pre-aborted rejects at once', async () => {
  const [c, s] = createPipePair();
  const ac = new AbortController();
  const client = connect(c, 'ws://h/', { signal: ac.signal });
  globalThis.setTimeout(() => ac.abort(), 10);
  const r = await settle(client.opened);
  assert.not.ok(r.ok);
  assert.is((r as { error: DOMException }).error.name, 'AbortError');
  assert.not.ok((await settle(client.closed)).ok);
  void s;

  const [c2, s2] = createPipePair();
  const ac2 = new AbortController();
  const server = accept(s2, { signal: ac2.signal });
  ac2.abort(new Error('shutting down'));
  const r2 = await settle(server.opened);
  assert.is((r2 as { error: Error }).error.message, 'shutting down');
  void c2;

  const [c3] = createPipePair();
  const r3 = await settle(connect(c3, 'ws://h/', { signal: AbortSignal.abort() }).opened);
  assert.is((r3 as { error: DOMException }).error.name, 'AbortError');

  // After open, aborting has no effect.
  const ac4 = new AbortController();
  const p = await openPair({}, { signal: ac4.signal });
  ac4.abort();
  await sleep(5);
  assert.is(p.client.readyState, 1);
  p.client.close();
  await within(p.server.closed);
});

test('close() while connecting rejects opened with a WebSocketError', async () => {
  const [c] = createPipePair();
  const client = connect(c, 'ws://h/');
  client.close();
  const r = await settle(client.opened);
  assert.not.ok(r.ok);
  assert.instance((r as { error: unknown }).error, WebSocketError);
  assert.not.ok((await settle(client.closed)).ok);
  assert.is(client.readyState, 3);
});

test('a pre-parsed request head (Node upgrade event) with the bytes after it', async () => {
  const [c, s] = createPipePair();
  const { buildClientRequest } = await import('@streamsocket/handshake');
  const req = buildClientRequest('ws://h/pre');
  const head = parseRequestHead(req.bytes);
  const server = accept(s, { request: head, rest: new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]) });
  const so = await within(server.opened);
  // Read the 101 as the client.
  const r = c.readable.getReader();
  const hr = new HeadReader('response');
  let res = null;
  while (!res) res = hr.push((await within(r.read())).value!);
  assert.is(res.head.status, 101);
  const msgs = so.readable.getReader();
  assert.is((await within(msgs.read())).value, 'hi');
  assert.is(server.url, 'ws://h/pre');
  c.reset();
  await settle(server.closed);
});

test('client: invalid 101 (bad accept) is a HandshakeError with status 101', async () => {
  const [c, s] = createPipePair();
  const client = connect(c, 'ws://h/');
  const r = s.readable.getReader();
  await within(r.read());
  const w = s.writable.getWriter();
  await w.write(enc.encode('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n'));
  const o = await settle(client.opened);
  assert.is((o as { error: HandshakeError }).error.code, 'BAD_ACCEPT');
  assert.is((o as { error: HandshakeError }).error.status, 101);
});

test('client: server closes before answering', async () => {
  const [c, s] = createPipePair();
  const client = connect(c, 'ws://h/');
  await s.writable.close();
  const o = await settle(client.opened);
  assert.is((o as { error: HandshakeError }).error.code, 'INCOMPLETE_HEAD');
  void readAll;
});

test.run();
