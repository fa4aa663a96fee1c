// One message as a stream (streamMessages, and stream bodies on the writable): pieces in order, text split inside
// a code point, backpressure bounding what is read, cancelling one message, the connection ending mid-message, a
// failing body, compressed messages, and the readable's type following the option.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReadableStream } from '@web-std/stream';
import { accept, connect, createPipePair, type StreamedMessage, type WebSocketStream } from '../src/index.js';
import { deflateAvailable, loadZlib } from '@streamsocket/codec';
import { settle, sleep, within } from './helpers.js';

const zlib = deflateAvailable || (await loadZlib());

function pieces<T>(list: T[]): ReadableStream<T> {
  let i = 0;
  return new ReadableStream<T>({
    pull(c) {
      if (i < list.length) c.enqueue(list[i++]!);
      else c.close();
    },
  });
}

async function collect<T>(s: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  const r = s.getReader();
  for (;;) {
    const x = await within(r.read(), 3000, 'a piece');
    if (x.done) return out;
    out.push(x.value);
  }
}

function bytesOf(parts: Uint8Array[]): number[] {
  return parts.flatMap((p) => [...p]);
}

async function pair(serverOpts: Parameters<typeof accept>[1] = {}, clientOpts: Parameters<typeof connect>[2] = {}, pipeHwm?: number) {
  const [c, s] = createPipePair(pipeHwm === undefined ? {} : { highWaterMark: pipeHwm });
  const server = accept(s, { ...serverOpts, streamMessages: true });
  const client = connect(c, 'ws://example.com/', clientOpts);
  const [so, co] = await within(Promise.all([server.opened, client.opened]));
  return { server, client, so, co, c };
}

test('a binary stream body arrives as { type, stream } with its pieces in order; the readable is typed by the option', async () => {
  const { server, client, so, co } = await pair();
  // Compile-time: accept() with streamMessages: true yields StreamedMessage; connect() without it, whole messages.
  const typed: ReadableStream<StreamedMessage> = so.readable;
  const plain: ReadableStream<string | Uint8Array> = co.readable;
  assert.ok(typed && plain);
  const w = co.writable.getWriter();
  void w.write(pieces([new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5, 6])]));
  const r = so.readable.getReader();
  const m = (await within(r.read())).value!;
  assert.is(m.type, 'binary');
  const got = await collect(m.stream as ReadableStream<Uint8Array>);
  assert.ok(got.length >= 1);
  assert.equal(bytesOf(got), [1, 2, 3, 4, 5, 6]);
  // A whole message is a stream too (one piece), so the reader's code is the same for both.
  void w.write('whole');
  const m2 = (await within(r.read())).value!;
  if (m2.type !== 'text') throw new Error('expected a text message');
  assert.equal(await collect(m2.stream), ['whole']);
  client.close({ closeCode: 1000 });
  await within(Promise.all([client.closed, server.closed]));
});

test('text: string pieces and UTF-8 split inside a code point come out as the same text; an echo is a plain pipe', async () => {
  const { server, client, so, co } = await pair();
  void so.readable.pipeTo(so.writable).catch(() => {}); // echo: StreamedMessage objects are stream bodies
  const w = co.writable.getWriter();
  const euro = new TextEncoder().encode('€'); // e2 82 ac
  await w.write({ type: 'text', stream: pieces<string | Uint8Array>(['a😀', 'b', euro.subarray(0, 1), euro.subarray(1), 'c']) });
  await w.write({ type: 'binary', stream: pieces([new Uint8Array(70_000).fill(7)]) });
  const r = co.readable.getReader();
  assert.is((await within(r.read())).value, 'a😀b€c');
  const bin = (await within(r.read())).value as Uint8Array;
  assert.is(bin.byteLength, 70_000);
  assert.ok(bin.every((b) => b === 7));
  client.close({ closeCode: 1000 });
  await within(Promise.all([client.closed, server.closed]));
});

test('backpressure: a reader that stops reading a message stops the socket being read, and the sender pulling pieces', async () => {
  const { server, so, co } = await pair({ readHighWaterMark: 16 * 1024 }, { writeHighWaterMark: 16 * 1024 }, 16 * 1024);
  const piece = 16 * 1024;
  const total = 8 * 1024 * 1024;
  let produced = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (produced >= total) return c.close();
      produced += piece;
      c.enqueue(new Uint8Array(piece));
    },
  }, { highWaterMark: 0 });
  const w = co.writable.getWriter();
  const sent = w.write(body);
  const r = so.readable.getReader();
  const m = (await within(r.read())).value!;
  const mr = (m.stream as ReadableStream<Uint8Array>).getReader();
  await within(mr.read());
  await sleep(300);
  const stalled = produced;
  // Bounded by the high-water marks on the way (message stream, pipe both ways, writer), not by the message.
  assert.ok(stalled <= 512 * 1024, `only ${stalled} of ${total} bytes pulled while the reader waits`);
  await sleep(100);
  assert.is(produced, stalled, 'nothing more pulled while nobody reads');
  let n = piece;
  for (;;) {
    const x = await within(mr.read());
    if (x.done) break;
    n += x.value.byteLength;
  }
  assert.is(n, total);
  await within(sent);
  server.close({ closeCode: 1000 });
  await within(server.closed);
});

test('cancelling one message stream drops the rest of that message only; the next message arrives', async () => {
  const { server, client, so, co } = await pair();
  const w = co.writable.getWriter();
  const body = pieces(Array.from({ length: 20 }, (_, i) => new Uint8Array(1000).fill(i)));
  void w.write(body);
  void w.write('after');
  const r = so.readable.getReader();
  const m = (await within(r.read())).value!;
  const mr = (m.stream as ReadableStream<Uint8Array>).getReader();
  const first = (await within(mr.read())).value!;
  assert.is(first[0], 0);
  await mr.cancel();
  const next = (await within(r.read())).value!;
  if (next.type !== 'text') throw new Error('expected the text message');
  assert.equal(await collect(next.stream), ['after']);
  assert.is(server.readyState, 1, 'still open');
  client.close({ closeCode: 1000 });
  await within(Promise.all([client.closed, server.closed]));
});

test('the connection ending mid-message errors that message stream and the readable', async () => {
  const { server, so, co, c } = await pair();
  const w = co.writable.getWriter();
  let pull!: () => void;
  const gate = new Promise<void>((res) => (pull = res));
  let step = 0;
  void w.write(new ReadableStream<Uint8Array>({
    async pull(c) {
      // Two pieces (the framer holds one back so the last frame can carry FIN), then the body never ends.
      if (step < 2) c.enqueue(new Uint8Array([++step]));
      else await gate;
    },
  }, { highWaterMark: 0 })).catch(() => {});
  const r = so.readable.getReader();
  const m = (await within(r.read())).value!;
  const mr = (m.stream as ReadableStream<Uint8Array>).getReader();
  assert.equal([...(await within(mr.read())).value!], [1]);
  c.reset(new Error('cut'));
  const x = await settle(mr.read());
  assert.not.ok(x.ok, 'the message stream errors');
  assert.not.ok((await settle(server.closed)).ok, 'abnormal close');
  pull();
});

test('a stream body that fails mid-message closes the session with 1011 (the message cannot be finished)', async () => {
  const { server, client, so, co } = await pair();
  const w = co.writable.getWriter();
  let n = 0;
  const write = w.write(new ReadableStream<Uint8Array>({
    pull(c) {
      if (n++ < 3) c.enqueue(new Uint8Array([n]));
      else c.error(new Error('disk gone'));
    },
  }));
  assert.not.ok((await settle(write)).ok, 'the write rejects');
  const r = so.readable.getReader();
  const m = (await within(r.read())).value!;
  assert.not.ok((await settle(collect(m.stream as ReadableStream<Uint8Array>))).ok, 'the unfinished message errors');
  const closed = await settle(server.closed);
  assert.ok(closed.ok);
  assert.equal(closed.ok && closed.value, { closeCode: 1011, reason: 'message body failed' });
  await settle(client.closed);
});

test('bad pieces: a number in a binary body is a TypeError for the writer', async () => {
  const { client, co } = await pair();
  const w = co.writable.getWriter();
  const r = await settle(w.write(pieces<unknown>([42]) as ReadableStream<Uint8Array>));
  assert.not.ok(r.ok);
  assert.instance(r.ok ? null : r.error, TypeError);
  await settle(client.closed);
});

test(`compressed messages stream too (inflated whole up to maxMessageSize)${zlib ? '' : ': here without zlib, offered and declined'}`, async () => {
  const { server, client, so, co } = await pair({ deflate: true }, { deflate: true });
  assert.is(co.extensions.includes('permessage-deflate'), zlib);
  const big = 'x'.repeat(200_000);
  void co.writable.getWriter().write(big);
  const m = (await within(so.readable.getReader().read(), 3000, 'message')).value!;
  if (m.type !== 'text') throw new Error('expected a text message');
  assert.is((await collect(m.stream)).join(''), big);
  client.close({ closeCode: 1000 });
  await within(Promise.all([client.closed, server.closed]));
});

test('the WHATWG-shaped classes keep whole messages (streamMessages belongs to accept/connect/serve)', async () => {
  const { createWebSocketStreamClass } = await import('../src/index.js');
  const [c, s] = createPipePair();
  const server = accept(s);
  const WSS = createWebSocketStreamClass(() => c, { streamMessages: true } as never);
  const ws: WebSocketStream = new WSS('ws://example.com/');
  const [so, co] = await within(Promise.all([server.opened, ws.opened]));
  void so.writable.getWriter().write('hi');
  assert.is((await within(co.readable.getReader().read())).value, 'hi');
  ws.close({ closeCode: 1000 });
  await within(Promise.all([ws.closed, server.closed]));
});

test.run();
