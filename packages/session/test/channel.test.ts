// Sessions over a ByteChannel (the only transport contract the session drives): everything goes through the
// channel's methods, counted here by a probe wrapped around the session's own channel over a pipe end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, channelFromStreams, connect, createPipePair, WebSocketError, type ByteChannel, type PipeEnd } from '../src/index.js';
import { HandshakeError } from '@streamsocket/handshake';
import { clientFrame, rawClient, settle, sleep, within } from './helpers.js';
import { deflateAvailable } from '@streamsocket/codec';

interface Probe extends ByteChannel {
  /** Calls made on the channel, by name. */
  calls: Map<string, number>;
}

/** A channel over one end of an in-memory pipe that counts the calls made on it. */
function channelOf(end: PipeEnd, opts: { stuckEnd?: boolean } = {}): Probe {
  const inner = channelFromStreams(end);
  const calls = new Map<string, number>();
  const count = (n: string): void => void calls.set(n, (calls.get(n) ?? 0) + 1);
  return {
    calls,
    read: () => (count('read'), inner.read()),
    cancel: () => (count('cancel'), inner.cancel()),
    listen: (sink) => (count('listen'), inner.listen(sink)),
    pause: () => (count('pause'), inner.pause()),
    resume: () => inner.resume(),
    write: (chunk) => (count('write'), inner.write(chunk)),
    get congested() {
      return inner.congested;
    },
    drained: () => inner.drained(),
    // stuckEnd: a peer that never reads, so the flush before the FIN never completes (until an abort).
    end: () => (count('end'), opts.stuckEnd ? new Promise<void>((_, reject) => void inner.closed.then(() => reject(new Error('aborted')))) : inner.end()),
    abort: (r?: unknown) => (count('abort'), inner.abort(r)),
    get closed() {
      return inner.closed;
    },
    destroy: () => (count('destroy'), inner.destroy()),
    track: (owner) => inner.track(owner),
  };
}

async function channelPair(serverOpts = {}, clientOpts = {}) {
  const [c, s] = createPipePair();
  const sc = channelOf(s);
  const cc = channelOf(c);
  const server = accept(sc, serverOpts);
  const client = connect(cc, 'ws://example.com/chat', clientOpts);
  const [so, co] = await within(Promise.all([server.opened, client.opened]), 3000, 'open');
  return { server, client, so, co, sc, cc, c, s };
}

test('channel: both roles open, exchange messages both ways and close cleanly through the channel', async () => {
  const { server, client, so, co, sc, cc } = await channelPair({ protocols: ['x'] }, { protocols: ['x'] });
  assert.is(co.protocol, 'x');
  const cw = co.writable.getWriter();
  void cw.write('hello');
  void cw.write(new Uint8Array([1, 2, 3]));
  const sr = so.readable.getReader();
  assert.is((await within(sr.read())).value, 'hello');
  assert.equal(Array.from((await within(sr.read())).value as Uint8Array), [1, 2, 3]);
  const sw = so.writable.getWriter();
  await sw.write('back');
  assert.is((await within(co.readable.getReader().read())).value, 'back');
  assert.equal(await within(server.ping(new Uint8Array([7]))), undefined);
  client.close({ closeCode: 1000, reason: 'bye' });
  assert.equal(await within(client.closed), { closeCode: 1000, reason: 'bye' });
  assert.equal(await within(server.closed), { closeCode: 1000, reason: 'bye' });
  assert.ok((sc.calls.get('end') ?? 0) >= 1, 'server half-closed through the channel');
  assert.ok((cc.calls.get('write') ?? 0) >= 3, 'frames were written through the channel');
  assert.is(sc.calls.get('abort'), undefined, 'a clean close aborts nothing');
});

test('channel: a refusal is answered through the channel and the client sees its status', async () => {
  const [c, s] = createPipePair();
  const sc = channelOf(s);
  const server = accept(sc, { path: '/only' });
  const client = connect(channelOf(c), 'ws://example.com/other');
  const so = await settle(server.opened);
  const co = await settle(client.opened);
  assert.not.ok(so.ok);
  assert.not.ok(co.ok);
  assert.instance(co.ok ? null : co.error, HandshakeError);
  assert.is((co.ok ? null : co.error).status, 404);
  assert.is(sc.calls.get('end'), 1);
  assert.ok((sc.calls.get('cancel') ?? 0) >= 1, 'reading stopped after the response');
});

test('channel: a transport reset is 1006 on the other side, which aborts its channel', async () => {
  const { server, client, c } = await channelPair();
  c.reset(new Error('boom'));
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  assert.instance(r.ok ? null : r.error, WebSocketError);
  assert.is((r.ok ? null : r.error).closeCode, 1006);
  await settle(client.closed);
});

test('channel: a protocol error sends its close code and ends the channel', async () => {
  const [c, s] = createPipePair();
  const sc = channelOf(s);
  const server = accept(sc);
  const raw = await rawClient(c);
  await raw.writer.write(clientFrame(0x3)); // reserved opcode: 1002
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  assert.is((r.ok ? null : r.error).closeCode, 1006);
  assert.ok((sc.calls.get('end') ?? 0) + (sc.calls.get('abort') ?? 0) >= 1);
});

test('channel: the handshake timeout aborts the channel', async () => {
  const [c, s] = createPipePair();
  const sc = channelOf(s);
  const server = accept(sc, { handshakeTimeout: 30 });
  const r = await settle(server.opened);
  assert.not.ok(r.ok);
  await sleep(10);
  assert.is(sc.calls.get('abort'), 1);
  c.reset();
});

test('channel: an unanswered error response is cut off by the close timeout', async () => {
  const [c, s] = createPipePair();
  const sc = channelOf(s, { stuckEnd: true });
  // The client never reads: the refusal cannot flush, so the deadline aborts the channel.
  const w = c.writable.getWriter();
  void w.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  const server = accept(sc, { closeTimeout: 50, onRequest: () => ({ status: 403 }) });
  const r = await settle(server.opened);
  assert.not.ok(r.ok);
  assert.is(sc.calls.get('abort'), 1);
  c.reset();
});

test('channel: a reader that stops reading pauses the channel; reading again resumes it, nothing lost', async () => {
  const { client, so, co, sc } = await channelPair({ readHighWaterMark: 1024 });
  const w = co.writable.getWriter();
  const n = 200;
  for (let i = 0; i < n; i++) void w.write(new Uint8Array(100).fill(i & 255));
  await sleep(50);
  assert.ok((sc.calls.get('pause') ?? 0) >= 1, 'paused while the reader is full');
  const r = so.readable.getReader();
  for (let i = 0; i < n; i++) {
    const { value } = await within(r.read());
    assert.is((value as Uint8Array)[0], i & 255);
  }
  client.close();
  await within(client.closed);
});

test('channel: compressed messages are inflated in order, the channel paused meanwhile', async () => {
  const { client, so, co, sc } = await channelPair({ deflate: true }, { deflate: true });
  // Without node:zlib (browsers) the offer is declined: the same messages then flow uncompressed, in order.
  if (deflateAvailable) assert.match(co.extensions, 'permessage-deflate');
  else assert.is(co.extensions, '');
  const w = co.writable.getWriter();
  const big = 'abc'.repeat(20_000);
  void w.write(big);
  void w.write('tail');
  const r = so.readable.getReader();
  assert.is((await within(r.read())).value, big);
  assert.is((await within(r.read())).value, 'tail');
  if (deflateAvailable) assert.ok((sc.calls.get('pause') ?? 0) >= 1, 'paused while inflating');
  client.close();
  await within(client.closed);
});

test('channel: EOF without a close frame is 1006', async () => {
  const [c, s] = createPipePair();
  const server = accept(channelOf(s));
  const raw = await rawClient(c);
  await raw.writer.close();
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  assert.is((r.ok ? null : r.error).closeCode, 1006);
});

test('frozen accept options (as serve() passes them) are shared by every connection and still applied', async () => {
  const opts = Object.freeze({ protocols: ['p'], readHighWaterMark: 1 });
  for (let i = 0; i < 2; i++) {
    const { server, client, so, co } = await channelPair(opts, { protocols: ['p'] });
    assert.is(so.protocol, 'p');
    assert.is(co.protocol, 'p');
    client.close({ closeCode: 1000, reason: '' });
    await within(Promise.all([client.closed, server.closed]));
  }
});

test.run();
