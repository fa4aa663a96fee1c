import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair, WebSocketError } from '../src/index.js';
import { CodecError } from '@streamsocket/codec';
import { openPair, settle, within, sleep, rawClient, rawServer, clientFrame, serverFrame, closePayload, readAll } from './helpers.js';

test('client-initiated close: code and reason reach both sides; nothing queued is lost', async () => {
  const { server, client, so, co } = await openPair();
  const w = co.writable.getWriter();
  for (let i = 0; i < 200; i++) void w.write(`m${i}`);
  client.close({ closeCode: 4000, reason: 'client done' }); // right after queueing: must go out last
  const got = await readAll(so.readable);
  assert.is(got.length, 200);
  assert.is(got[199], 'm199');
  assert.equal(await within(server.closed), { closeCode: 4000, reason: 'client done' });
  assert.equal(await within(client.closed), { closeCode: 4000, reason: 'client done' });
  assert.is(server.readyState, 3);
  assert.is(client.readyState, 3);
  const late = await settle(w.write('late'));
  assert.not.ok(late.ok, 'writes after close reject');
});

test('server-initiated close; the server closes TCP first, the client then', async () => {
  const { server, client, so, co } = await openPair();
  const w = so.writable.getWriter();
  for (let i = 0; i < 50; i++) void w.write(new Uint8Array([i]));
  server.close({ closeCode: 1000, reason: 'bye' });
  const got = await readAll(co.readable);
  assert.is(got.length, 50);
  assert.equal(await within(client.closed), { closeCode: 1000, reason: 'bye' });
  assert.equal(await within(server.closed), { closeCode: 1000, reason: 'bye' });
});

test('simultaneous close: each side sees the other\'s code', async () => {
  const { server, client } = await openPair();
  client.close({ closeCode: 4001, reason: 'c' });
  server.close({ closeCode: 4002, reason: 's' });
  assert.equal(await within(client.closed), { closeCode: 4002, reason: 's' });
  assert.equal(await within(server.closed), { closeCode: 4001, reason: 'c' });
});

test('close without code is reported as 1005 on both sides', async () => {
  const { server, client } = await openPair();
  client.close();
  assert.equal(await within(server.closed), { closeCode: 1005, reason: '' });
  assert.equal(await within(client.closed), { closeCode: 1005, reason: '' });
});

test('writable.close() closes without code; abort(WebSocketError) closes with its code', async () => {
  {
    const { server, client, co } = await openPair();
    const w = co.writable.getWriter();
    void w.write('last');
    await w.close();
    assert.equal(await within(server.closed), { closeCode: 1005, reason: '' });
    await within(client.closed);
  }
  {
    const { server, client, co } = await openPair();
    await co.writable.abort(new WebSocketError('', { closeCode: 4321, reason: 'aborted' }));
    assert.equal(await within(server.closed), { closeCode: 4321, reason: 'aborted' });
    await within(client.closed);
  }
  {
    const { server, client, co } = await openPair();
    await co.writable.abort(new Error('plain'));
    assert.equal(await within(server.closed), { closeCode: 1005, reason: '' });
    await within(client.closed);
  }
});

test('readable.cancel() closes (with a WebSocketError\'s code if given)', async () => {
  const { server, client, co } = await openPair();
  await co.readable.cancel(new WebSocketError('', { closeCode: 3003, reason: 'no more' }));
  assert.equal(await within(server.closed), { closeCode: 3003, reason: 'no more' });
  await within(client.closed);
});

test('abrupt disconnect: 1006 on both sides, readable errors, no unhandled rejection', async () => {
  const { server, client, so, co, c } = await openPair();
  c.reset(new Error('cable cut'));
  const sc = await settle(server.closed);
  const cc = await settle(client.closed);
  assert.not.ok(sc.ok);
  assert.not.ok(cc.ok);
  const se = (sc as { error: WebSocketError }).error;
  assert.instance(se, WebSocketError);
  assert.is(se.closeCode, 1006);
  assert.is((cc as { error: WebSocketError }).error.closeCode, 1006);
  const rr = await settle(so.readable.getReader().read());
  assert.not.ok(rr.ok, 'readable errored');
  const wr = await settle(co.writable.getWriter().write('x'));
  assert.not.ok(wr.ok, 'writable errored');
  assert.is(server.readyState, 3);
});

test('EOF without a close frame is abnormal (1006)', async () => {
  const [c, s] = createPipePair();
  const server = accept(s);
  const raw = await rawClient(c);
  await within(server.opened);
  await raw.writer.close();
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  assert.is((r as { error: WebSocketError }).error.closeCode, 1006);
});

async function expectFailure(frames: Uint8Array[], code: number, serverOpts = {}) {
  const [c, s] = createPipePair();
  const server = accept(s, serverOpts);
  const raw = await rawClient(c);
  const so = await within(server.opened);
  for (const f of frames) void raw.writer.write(f);
  const msgs = await raw.drain();
  const close = msgs.find((m) => m.type === 'close');
  assert.ok(close, 'a close frame was sent');
  assert.is((close as { code: number }).code, code);
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  const e = (r as { error: WebSocketError }).error;
  assert.is(e.closeCode, 1006, 'the failing side reports an abnormal closure');
  assert.instance((e as { cause?: unknown }).cause, CodecError);
  assert.is(((e as { cause?: CodecError }).cause as CodecError).closeCode, code);
  const rr = await settle(so.readable.getReader().read());
  assert.not.ok(rr.ok);
  await raw.writer.close().catch(() => {});
}

test('protocol error (reserved opcode) -> 1002 sent, then closed', async () => {
  await expectFailure([clientFrame(3, 'x')], 1002);
});

test('protocol error (unmasked client frame) -> 1002', async () => {
  await expectFailure([serverFrame(1, 'x')], 1002);
});

test('invalid UTF-8 -> 1007', async () => {
  await expectFailure([clientFrame(1, new Uint8Array([0xc3, 0x28]))], 1007);
});

test('message too big -> 1009', async () => {
  await expectFailure([clientFrame(2, new Uint8Array(300))], 1009, { maxMessageSize: 200 });
});

test('close timeout: a peer that never answers the close frame -> 1006 after closeTimeout', async () => {
  const [c, s] = createPipePair();
  const server = accept(s, { closeTimeout: 60 });
  const raw = await rawClient(c);
  await within(server.opened);
  const t0 = Date.now();
  server.close({ closeCode: 1000 });
  const m = await raw.next();
  assert.is(m?.type, 'close');
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  assert.is((r as { error: WebSocketError }).error.closeCode, 1006);
  assert.ok(Date.now() - t0 >= 50, 'waited for the close timeout');
});

test('client waits for the server to close TCP, then closes itself after closeTimeout (still clean)', async () => {
  const [c, s] = createPipePair();
  const client = connect(c, 'ws://h/', { closeTimeout: 60 });
  const raw = await rawServer(s);
  await within(client.opened);
  client.close({ closeCode: 4000, reason: 'x' });
  const m = await raw.next();
  assert.equal(m, { type: 'close', code: 4000, reason: 'x' });
  await raw.writer.write(serverFrame(8, closePayload(4000, 'x')));
  // The raw server keeps TCP open: the client gives up waiting after closeTimeout.
  const t0 = Date.now();
  assert.equal(await within(client.closed), { closeCode: 4000, reason: 'x' });
  assert.ok(Date.now() - t0 >= 40);
  await within(raw.piped);
  assert.ok(raw.eof, 'client closed its side');
});

test('server sends close then closes TCP at once: client reports a clean close', async () => {
  const [c, s] = createPipePair();
  const client = connect(c, 'ws://h/');
  const raw = await rawServer(s);
  const co = await within(client.opened);
  await raw.writer.write(serverFrame(1, 'hi'));
  await raw.writer.write(serverFrame(8, closePayload(1001, 'going')));
  await raw.writer.close();
  assert.equal(await readAll(co.readable), ['hi']);
  assert.equal(await within(client.closed), { closeCode: 1001, reason: 'going' });
});

test('ping from the peer is answered with the same payload; pongs are bounded when the peer does not read', async () => {
  const [c, s] = createPipePair({ highWaterMark: 64 });
  const server = accept(s);
  const raw = await rawClient(c);
  await within(server.opened);
  const N = 3000;
  const payload = (i: number) => new Uint8Array([i >> 8, i & 255, ...new Uint8Array(98)]);
  // Send many pings without reading anything.
  const writes: Promise<void>[] = [];
  for (let i = 0; i < N; i++) writes.push(raw.writer.write(clientFrame(9, payload(i))));
  await within(Promise.all(writes), 5000, 'pings written');
  await sleep(20);
  let pongs = 0;
  let last: Uint8Array | null = null;
  for (;;) {
    const m = await Promise.race([raw.next(), sleep(100).then(() => 'idle' as const)]);
    if (m === 'idle' || m === null) break;
    if (m.type === 'pong') {
      pongs++;
      last = m.data;
    }
  }
  assert.ok(pongs >= 1);
  assert.ok(pongs < N, `pongs coalesced while the peer did not read (${pongs} of ${N})`);
  assert.equal(Array.from(last!.subarray(0, 2)), [(N - 1) >> 8, (N - 1) & 255], 'the latest ping is answered');
  c.reset();
  await settle(server.closed);
});

test('data after our close is still delivered while there is room; close frame garbage is tolerated', async () => {
  const [c, s] = createPipePair();
  const client = connect(c, 'ws://h/');
  const raw = await rawServer(s);
  const co = await within(client.opened);
  client.close({ closeCode: 1000 });
  assert.is((await raw.next())?.type, 'close');
  await raw.writer.write(serverFrame(1, 'late data'));
  await raw.writer.write(serverFrame(8, closePayload(1000)));
  await raw.writer.write(new Uint8Array([0xff, 0xff])); // junk after close: ignored
  await raw.writer.close();
  assert.equal(await readAll(co.readable), ['late data']);
  assert.equal(await within(client.closed), { closeCode: 1000, reason: '' });
});

test('close() twice and close after closed are no-ops', async () => {
  const { server, client } = await openPair();
  client.close({ closeCode: 1000 });
  client.close({ closeCode: 3000 });
  assert.equal(await within(client.closed), { closeCode: 1000, reason: '' });
  client.close();
  await within(server.closed);
});

test.run();
