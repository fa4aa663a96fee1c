// PlatformConnection: a WebSocket the platform owns (Deno's, Bun's, workerd's), presented as a session. A fake
// platform socket stands in for them here; the examples (hono, shared-port, worker-route) run the real ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PlatformConnection, resolveOptions, WebSocketError, WebSocketStream, wrapWebSocket, CloseEvent, type PlatformBinding } from '../src/index.js';
import { HandshakeGuard } from '../src/guard.js';
import type { CloseInfo } from '../src/index.js';
import { settle, sleep, within } from './helpers.js';

interface Fake {
  sent: Array<string | Uint8Array>;
  closes: Array<[number | undefined, string | undefined]>;
  buffered: number;
  sendResult: number | undefined;
  pings: Uint8Array[];
  terminated: boolean;
}

function make(extra: Partial<PlatformBinding> = {}, options = {}) {
  const fake: Fake = { sent: [], closes: [], buffered: 0, sendResult: undefined, pings: [], terminated: false };
  let resolve!: (v: CloseInfo) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<CloseInfo>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  const binding: PlatformBinding = {
    socket: {
      send: (d) => {
        fake.sent.push(d);
        return fake.sendResult;
      },
      close: (code, reason) => void fake.closes.push([code, reason]),
    },
    maxReadBacklog: 1024,
    ...extra,
  };
  const conn = new PlatformConnection(binding, resolveOptions({ writeHighWaterMark: 100, readHighWaterMark: 100, closeTimeout: 200, ...options }), { promise, resolve, reject });
  return { conn, fake, closed: promise };
}

test('messages in: strings, ArrayBuffers and byte views arrive as strings and Uint8Arrays', async () => {
  const { conn } = make();
  conn.onMessage('héllo');
  conn.onMessage(new Uint8Array([1, 2, 3]).buffer);
  conn.onMessage(new Uint16Array([0x0201]));
  const r = conn.readable.getReader();
  assert.is((await r.read()).value, 'héllo');
  assert.equal([...((await r.read()).value as Uint8Array)], [1, 2, 3]);
  const v = (await r.read()).value as Uint8Array;
  assert.instance(v, Uint8Array);
  assert.is(v.byteLength, 2);
});

test('messages in: a plain Uint8Array is handed on as it is; a subclass (Node\'s Buffer) becomes a plain Uint8Array view of the same bytes', async () => {
  const { conn } = make();
  class Bytes extends Uint8Array {}
  const plain = new Uint8Array([7, 8]);
  const sub = new Bytes([1, 2, 3, 4]).subarray(1, 3);
  conn.onMessage(plain);
  conn.onMessage(sub);
  const r = conn.readable.getReader();
  assert.ok((await r.read()).value === plain, 'no new view for a plain Uint8Array');
  const v = (await r.read()).value as Uint8Array;
  assert.is(v.constructor, Uint8Array);
  assert.equal([...v], [2, 3]);
  assert.is(v.buffer, sub.buffer, 'a view, not a copy');
});

test('streamMessages: each whole message is a one-piece stream; a stream body is sent whole, up to maxMessageSize', async () => {
  const { ReadableStream } = await import('@web-std/stream');
  const { conn, fake } = make({}, { streamMessages: true, maxMessageSize: 8 });
  conn.onMessage('héllo');
  conn.onMessage(new Uint8Array([1, 2]).buffer);
  const r = conn.readable.getReader();
  const t = (await r.read()).value as { type: string; stream: ReadableStream<string> };
  assert.is(t.type, 'text');
  const tr = t.stream.getReader();
  assert.is((await tr.read()).value, 'héllo');
  assert.ok((await tr.read()).done);
  const b = (await r.read()).value as { type: string; stream: ReadableStream<Uint8Array> };
  assert.is(b.type, 'binary');
  assert.equal([...((await b.stream.getReader().read()).value!)], [1, 2]);
  const body = (parts: Array<string | Uint8Array>) => new ReadableStream<string | Uint8Array>({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } });
  const w = conn.writable.getWriter();
  await w.write({ type: 'text', stream: body(['ab', new TextEncoder().encode('é'), 'c']) });
  await w.write(body([new Uint8Array([5]), new Uint8Array([6, 7])]) as ReadableStream<Uint8Array>);
  assert.equal(fake.sent[0], 'abéc');
  assert.equal([...(fake.sent[1] as Uint8Array)], [5, 6, 7]);
  const over = await settle(w.write(body([new Uint8Array(5), new Uint8Array(5)]) as ReadableStream<Uint8Array>));
  assert.not.ok(over.ok);
  assert.instance(over.ok ? null : over.error, RangeError);
});

test('messages out: every SendData kind reaches send(); close waits for the writes accepted before it', async () => {
  const { conn, fake, closed } = make();
  const w = conn.writable.getWriter();
  void w.write('text');
  void w.write(new Uint8Array([9]));
  void w.write(new Uint8Array([7, 8]).buffer);
  void w.write(new Blob([new Uint8Array([5])]));
  conn.close(1000, 'bye');
  // Wait (bounded) for the close to reach the platform: how long reading the Blob takes is the runtime's affair
  // (Chromium's takes longer than a few milliseconds). What was sent by then must be all four.
  for (let i = 0; i < 200 && fake.closes.length === 0; i++) await sleep(10);
  assert.is(fake.sent.length, 4, 'all four before the close');
  assert.is(fake.sent[0], 'text');
  assert.equal([...(fake.sent[3] as Uint8Array)], [5]);
  assert.equal(fake.closes, [[1000, 'bye']]);
  assert.is(conn.readyState, 2);
  conn.onClose(1000, 'bye');
  assert.equal(await within(closed), { closeCode: 1000, reason: 'bye' });
  assert.is(conn.readyState, 3);
  const late = await settle(w.write('late'));
  assert.not.ok(late.ok, 'writes after the close reject');
});

test('peer close: the readable ends, a pipe from it closes cleanly, the close is answered', async () => {
  const { conn, fake, closed } = make();
  const sink: unknown[] = [];
  const piped = conn.readable.pipeTo(new WritableStream({ write: (c) => void sink.push(c) }));
  const back = new ReadableStream({ start: (c) => { c.enqueue('x'); c.close(); } }).pipeTo(conn.writable, { preventClose: true });
  await back;
  conn.onMessage('one');
  conn.onClose(4001, 'peer says bye');
  await within(piped);
  assert.equal(sink, ['one']);
  assert.equal(await within(closed), { closeCode: 4001, reason: 'peer says bye' });
  assert.equal(fake.closes, [[4001, 'peer says bye']], 'the platform is told to answer');
});

test('an abrupt end (1006) rejects closed with a WebSocketError and errors both streams', async () => {
  const { conn, closed } = make();
  const reading = conn.readable.getReader().read();
  conn.onClose(1006, '', false);
  const r = await settle(closed);
  if (r.ok) throw new Error('closed resolved');
  assert.instance(r.error, WebSocketError);
  assert.is(r.error.closeCode, 1006);
  assert.not.ok((await settle(reading)).ok);
});

test("backpressure, Bun's way: send() returning -1 holds the write until drain", async () => {
  const { conn, fake } = make({ sendSignalsBackpressure: true });
  const w = conn.writable.getWriter();
  fake.sendResult = -1;
  let done = false;
  const p = w.write('a').then(() => (done = true));
  await sleep(20);
  assert.not.ok(done, 'waiting for drain');
  assert.ok(conn.congested);
  conn.onDrain();
  await within(p);
  assert.ok(done);
});

test('backpressure by bufferedAmount: a write waits while the platform holds more than the high-water mark', async () => {
  const box = { n: 0 };
  const { conn } = make({ bufferedAmount: () => box.n });
  const w = conn.writable.getWriter();
  box.n = 1000;
  let done = false;
  const p = w.write('a').then(() => (done = true));
  await sleep(30);
  assert.not.ok(done);
  box.n = 0;
  await within(p);
  assert.ok(done);
});

test('one message of any size ahead of the reader is not a backlog; a second one past the limit is', async () => {
  const { conn, fake } = make();
  conn.onMessage(new Uint8Array(5000)); // 100 B high-water mark, 1,024 B backlog: one big message waits, fine
  assert.equal(fake.closes, []);
  conn.onMessage(new Uint8Array(10));
  assert.equal(fake.closes, [[1008, 'reader too slow']]);
});

test('a reader far behind (more than maxReadBacklog past the high-water mark) gets the connection closed with 1008', async () => {
  const { conn, fake } = make();
  for (let i = 0; i < 20; i++) conn.onMessage('x'.repeat(100));
  assert.equal(fake.closes, [[1008, 'reader too slow']]);
  assert.is(conn.readyState, 2);
});

test('ping: NotSupportedError without a platform ping; with one, resolved by the matching pong', async () => {
  const a = make();
  const r = await settle(a.conn.ping());
  assert.is(r.ok ? '' : r.error.name, 'NotSupportedError');
  const b = make({ ping: (d) => void b.fake.pings.push(d) });
  const p = b.conn.ping(new Uint8Array([1, 2]));
  assert.is(b.fake.pings.length, 1);
  b.conn.onPong(new Uint8Array([1, 2]));
  await within(p);
});

test('close timeout: the platform socket is terminated and closed rejects with 1006', async () => {
  const box = { terminated: false };
  const { conn, closed } = make({ terminate: () => void (box.terminated = true) });
  conn.close(1000, '');
  const r = await settle(closed);
  if (r.ok) throw new Error('closed resolved');
  assert.is(r.error.closeCode, 1006);
  assert.ok(box.terminated);
});

test('the WebSocket class over a platform core: messages as they arrive (held ones after open), sends in order, no streams made', async () => {
  const { fake } = make();
  let conn: PlatformConnection | undefined;
  const guard = new HandshakeGuard(0, undefined, 0);
  const session = new WebSocketStream('ws://h/p', guard, resolveOptions({ writeHighWaterMark: 100 }), async () => ({
    role: 'server',
    rest: new Uint8Array(0),
    deflate: null,
    protocol: '',
    extensions: '',
    core: (closed) => (conn = new PlatformConnection({ socket: { send: (d) => void fake.sent.push(d), close: (code, reason) => void fake.closes.push([code, reason]) }, maxReadBacklog: 1024 }, resolveOptions({}), closed)),
  }), 'platform');
  await within(session.opened);
  conn!.onMessage('held');
  const ws = wrapWebSocket(session);
  ws.binaryType = 'arraybuffer';
  const log: unknown[] = [];
  for (const t of ['open', 'message', 'error', 'close']) ws.addEventListener(t, (e) => log.push(t === 'message' ? (e as MessageEvent).data : t));
  await within(new Promise((r) => ws.addEventListener('open', r, { once: true })));
  assert.equal(log, ['open', 'held']);
  conn!.onMessage('now');
  conn!.onMessage(new Uint8Array([5, 6]).buffer);
  assert.is(log.length, 4, 'dispatched synchronously, as the platform delivered them');
  assert.is(log[2], 'now');
  assert.equal([...new Uint8Array(log[3] as ArrayBuffer)], [5, 6]);
  ws.send('a');
  ws.send(new Blob([new Uint8Array([1])]));
  ws.send('c');
  assert.is(ws.bufferedAmount, 3);
  await within((async () => { while (fake.sent.length < 3) await sleep(1); })());
  assert.is(fake.sent[0], 'a');
  assert.equal([...(fake.sent[1] as Uint8Array)], [1]);
  assert.is(fake.sent[2], 'c');
  const core = conn as unknown as { readStream: unknown; writeStream: unknown };
  assert.ok(core.readStream === null && core.writeStream === null, 'no streams made');
  const closed = within(new Promise((r) => ws.addEventListener('close', r, { once: true })));
  conn!.onMessage('last');
  conn!.onClose(1000, 'bye');
  const c = (await closed) as CloseEvent;
  assert.is(c.code, 1000);
  assert.is(c.wasClean, true);
  assert.equal(log.slice(4), ['last', 'close']);
});

test.run();
