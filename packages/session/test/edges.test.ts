import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair, WebSocketError } from '../src/index.js';
import { HandshakeError, HeadReader, buildClientRequest, validateResponse } from '@streamsocket/handshake';
import { CodecError, PerMessageDeflate, deflateAvailable, permessageDeflate, type DeflateAgreement } from '@streamsocket/codec';
import { settle, within, sleep, clientFrame } from './helpers.js';

// Tests that need node:zlib are registered as skipped where it is missing (browsers), rather than passing without
// asserting anything; the declined-offer path is what those runtimes test instead.

(deflateAvailable ? test : test.skip)('compressed text that inflates to invalid UTF-8 -> 1007', async () => {
  const [c, s] = createPipePair();
  const server = accept(s, { deflate: true });
  const neg = permessageDeflate();
  const req = buildClientRequest('ws://h/', { extensions: [neg] });
  const w = c.writable.getWriter();
  await w.write(req.bytes);
  const r = c.readable.getReader();
  const hr = new HeadReader('response');
  let res = null;
  while (!res) res = hr.push((await within(r.read())).value!);
  const v = validateResponse(req, res.head);
  const agreement = v.agreements.get('permessage-deflate') as DeflateAgreement;
  assert.ok(agreement, 'deflate negotiated');
  await within(server.opened);
  const pmd = new PerMessageDeflate(agreement, 'client', { maxMessageSize: 1 << 20, threshold: 0 });
  const compressed = await pmd.compress(new Uint8Array([0x61, 0xc3, 0x28, 0x62]));
  pmd.dispose();
  await w.write(clientFrame(1, compressed, { rsv1: true }));
  // Read the server's close frame: 0x88, len, code(2)...
  let bytes = new Uint8Array(0);
  for (;;) {
    const x = await settle(r.read());
    if (!x.ok || x.value.done) break;
    const merged = new Uint8Array(bytes.byteLength + x.value.value!.byteLength);
    merged.set(bytes);
    merged.set(x.value.value!, bytes.byteLength);
    bytes = merged;
  }
  assert.is(bytes[0], 0x88);
  assert.is((bytes[2]! << 8) | bytes[3]!, 1007);
  const closed = await settle(server.closed);
  assert.not.ok(closed.ok);
  const cause = ((closed as { error: { cause: unknown } }).error.cause) as CodecError;
  assert.instance(cause, CodecError);
  assert.is(cause.closeCode, 1007);
});

test('a peer that does not read the error response: the server gives up after closeTimeout', async () => {
  const [c, s] = createPipePair({ highWaterMark: 16 });
  const server = accept(s, {
    closeTimeout: 40,
    onRequest: () => ({ status: 403, body: 'x'.repeat(100_000) }),
  });
  const req = buildClientRequest('ws://h/');
  void c.writable.getWriter().write(req.bytes);
  const t0 = Date.now();
  const o = await settle(server.opened);
  assert.not.ok(o.ok);
  assert.is((o as { error: HandshakeError }).error.status, 403);
  assert.ok(Date.now() - t0 < 2000, 'bounded by closeTimeout');
  const rr = await settle(c.readable.getReader().read());
  // The connection was torn down: either an error or (already buffered) head bytes then an error.
  void rr;
});

test('a slow onRequest hook counts against the handshake timeout', async () => {
  const [c, s] = createPipePair();
  const server = accept(s, { handshakeTimeout: 40, onRequest: () => new Promise<undefined>(() => {}) });
  const client = connect(c, 'ws://h/');
  const so = await settle(server.opened);
  assert.is((so as { error: HandshakeError }).error.code, 'HANDSHAKE_TIMEOUT');
  const co = await settle(client.opened);
  assert.not.ok(co.ok, 'the client sees the connection go away');
});

test('a connection promised after the handshake timeout is closed, not leaked', async () => {
  const [c, s] = createPipePair();
  let serverSawEnd = false;
  void (async () => {
    const r = s.readable.getReader();
    for (;;) {
      const x = await settle(r.read());
      if (!x.ok || x.value.done) break;
    }
    serverSawEnd = true;
  })();
  const client = connect(sleep(80).then(() => c), 'ws://h/', { handshakeTimeout: 30 });
  const o = await settle(client.opened);
  assert.is((o as { error: HandshakeError }).error.code, 'HANDSHAKE_TIMEOUT');
  await sleep(120);
  assert.ok(serverSawEnd, 'the late connection was closed');
});

test('keepalive on the client side detects a dead server', async () => {
  const [c, s] = createPipePair();
  const client = connect(c, 'ws://h/', { keepaliveInterval: 20, keepaliveTimeout: 20 });
  // A server that completes the handshake and then never answers anything.
  const { validateRequest, buildAcceptResponse } = await import('@streamsocket/handshake');
  const r = s.readable.getReader();
  const hr = new HeadReader('request');
  let head = null;
  while (!head) head = hr.push((await within(r.read())).value!);
  const v = validateRequest(head.head);
  assert.ok(v.ok);
  const w = s.writable.getWriter();
  await w.write(buildAcceptResponse((v as { handshake: Parameters<typeof buildAcceptResponse>[0] }).handshake));
  void (async () => {
    for (;;) {
      const x = await settle(r.read());
      if (!x.ok || x.value.done) break;
    }
  })();
  await within(client.opened);
  const closed = await settle(client.closed);
  assert.not.ok(closed.ok);
  assert.is((closed as { error: WebSocketError }).error.closeCode, 1006);
});

test('a close frame arriving while our close waits behind queued writes completes the handshake', async () => {
  const [c, s] = createPipePair({ highWaterMark: 1024 });
  const server = accept(s);
  const client = connect(c, 'ws://h/');
  const [so, co] = await within(Promise.all([server.opened, client.opened]));
  const w = co.writable.getWriter();
  for (let i = 0; i < 20; i++) void w.write(new Uint8Array(4096)).catch(() => {});
  client.close({ closeCode: 4000 }); // waits behind ~80 KB
  server.close({ closeCode: 4001 }); // crosses it
  const got = [];
  const r = so.readable.getReader();
  for (;;) {
    const x = await within(r.read());
    if (x.done) break;
    got.push(x.value);
  }
  assert.is(got.length, 20, 'every queued message arrived before the close');
  assert.equal(await within(client.closed), { closeCode: 4001, reason: '' });
  assert.equal(await within(server.closed), { closeCode: 4000, reason: '' });
});

test.run();
