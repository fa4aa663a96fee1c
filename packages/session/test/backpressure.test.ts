import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair } from '../src/index.js';
import { TransformStream } from '@web-std/stream';
import { within, sleep, settle } from './helpers.js';

/** Wraps a readable so the test can count the bytes the session pulls from it. */
function counting(readable: ReadableStream<Uint8Array>) {
  const stats = { pulled: 0 };
  const reader = readable.getReader();
  const wrapped = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) c.close();
        else {
          stats.pulled += value.byteLength;
          c.enqueue(value);
        }
      },
      cancel(r) {
        return reader.cancel(r);
      },
    },
    { highWaterMark: 0 },
  );
  return { wrapped, stats };
}

test('a reader that does not read stops the socket being read (bounded memory), writer.ready waits', async () => {
  const [c, s] = createPipePair({ highWaterMark: 16 * 1024 });
  const { wrapped, stats } = counting(c.readable);
  const READ_HWM = 32 * 1024;
  const server = accept(s, { writeHighWaterMark: 16 * 1024 });
  const client = connect({ readable: wrapped, writable: c.writable }, 'ws://h/', { readHighWaterMark: READ_HWM });
  const [so, co] = await within(Promise.all([server.opened, client.opened]));
  const w = so.writable.getWriter();
  const MSG = 1024;
  const TOTAL = 4000; // 4 MB offered by a fast writer
  let accepted = 0;
  let blocked = false;
  for (let i = 0; i < TOTAL; i++) {
    const ready = await Promise.race([w.ready.then(() => true), sleep(50).then(() => false)]);
    if (!ready) {
      blocked = true;
      break;
    }
    void w.write(new Uint8Array(MSG).fill(i & 255));
    accepted++;
  }
  assert.ok(blocked, 'writer.ready stayed pending while the peer did not read');
  // Bound on what the client pulled from the socket: its readable queue (READ_HWM),
  // the decoder's input queue (16 KiB) and one message being assembled, plus one
  // socket chunk in flight. Everything else waits in the sender's buffers.
  const BOUND = READ_HWM + 16 * 1024 + MSG + 16 * 1024;
  assert.ok(stats.pulled <= BOUND, `pulled ${stats.pulled} <= ${BOUND}`);
  assert.ok(accepted * MSG < 512 * 1024, `the writer was stopped early (${accepted} messages accepted)`);
  await sleep(30);
  const before = stats.pulled;
  await sleep(30);
  assert.is(stats.pulled, before, 'nothing more is read while the reader sleeps');

  // Now read: everything accepted arrives, in order.
  const r = co.readable.getReader();
  for (let i = 0; i < accepted; i++) {
    const { value } = await within(r.read());
    assert.is((value as Uint8Array)[0], i & 255);
  }
  server.close();
  await within(Promise.all([server.closed, client.closed]));
});

test('write side: writer.ready follows the socket (a peer that does not read its socket)', async () => {
  const [c, s] = createPipePair({ highWaterMark: 4096 });
  const server = accept(s);
  const client = connect(c, 'ws://h/', { writeHighWaterMark: 8192 });
  // The server side reads its head and then nothing (we never start its pump: simulate by not
  // opening a reader? The session always reads; so instead stall its readable consumer).
  const [so, co] = await within(Promise.all([server.opened, client.opened]));
  void so;
  const w = co.writable.getWriter();
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    const ok = await Promise.race([w.ready.then(() => true), sleep(30).then(() => false)]);
    if (!ok) break;
    void w.write(new Uint8Array(1024)).catch(() => {});
    accepted++;
  }
  assert.ok(accepted < 10_000, `the client writer was stopped (${accepted} KiB accepted)`);
  assert.ok(accepted * 1024 < 1024 * 1024);
  c.reset();
  await settle(client.closed);
  await settle(server.closed);
});

test('backpressure over plain TransformStream pipes too', async () => {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const server = accept({ readable: ab.readable, writable: ba.writable });
  const client = connect({ readable: ba.readable, writable: ab.writable }, 'ws://h/', { readHighWaterMark: 1024 });
  const [so, co] = await within(Promise.all([server.opened, client.opened]));
  const w = so.writable.getWriter();
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const ok = await Promise.race([w.ready.then(() => true), sleep(30).then(() => false)]);
    if (!ok) break;
    void w.write('x'.repeat(512));
    accepted++;
  }
  assert.ok(accepted < 2000, `stopped after ${accepted}`);
  const r = co.readable.getReader();
  for (let i = 0; i < accepted; i++) await within(r.read());
  client.close();
  await within(Promise.all([server.closed, client.closed]));
});

test('a slow reader does not trip the keepalive (our stall is not a dead peer)', async () => {
  const [c, s] = createPipePair({ highWaterMark: 1024 });
  const server = accept(s);
  const client = connect(c, 'ws://h/', { readHighWaterMark: 0, keepaliveInterval: 20, keepaliveTimeout: 20 });
  const [so, co] = await within(Promise.all([server.opened, client.opened]));
  const w = so.writable.getWriter();
  for (let i = 0; i < 50; i++) void w.write(new Uint8Array(1024)).catch(() => {});
  await sleep(150);
  assert.is(client.readyState, 1, 'still open although nothing was read for 150 ms');
  const r = co.readable.getReader();
  for (let i = 0; i < 50; i++) await within(r.read());
  client.close();
  await within(Promise.all([server.closed, client.closed]));
});

test.run();
