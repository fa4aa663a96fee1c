import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPipePair } from '../src/index.js';

const bytes = (...xs: number[]) => new Uint8Array(xs);

test('pipe: what one end writes the other reads, both directions', async () => {
  const [a, b] = createPipePair();
  const wa = a.writable.getWriter();
  const wb = b.writable.getWriter();
  const ra = a.readable.getReader();
  const rb = b.readable.getReader();
  await wa.write(bytes(1, 2, 3));
  await wb.write(bytes(9));
  assert.equal(Array.from((await rb.read()).value!), [1, 2, 3]);
  assert.equal(Array.from((await ra.read()).value!), [9]);
  await wa.close();
  assert.equal((await rb.read()).done, true, 'close delivers EOF (half-close)');
  await wb.write(bytes(7));
  assert.equal(Array.from((await ra.read()).value!), [7], 'other direction still open');
  await wb.close();
  assert.equal((await ra.read()).done, true);
});

test('pipe: real backpressure in bytes', async () => {
  const [a, b] = createPipePair({ highWaterMark: 100 });
  const w = a.writable.getWriter();
  let written = 0;
  // Write 10-byte chunks until the writer reports backpressure.
  for (let i = 0; i < 100 && (w.desiredSize ?? 0) > 0; i++) {
    void w.write(new Uint8Array(10));
    written += 10;
    await new Promise((r) => globalThis.setTimeout(r, 0));
  }
  assert.ok(written <= 220, `bounded by ~2 x highWaterMark, wrote ${written}`);
  assert.ok(written >= 100, `at least highWaterMark accepted, wrote ${written}`);
  let readyResolved = false;
  void w.ready.then(() => (readyResolved = true));
  await new Promise((r) => globalThis.setTimeout(r, 5));
  assert.not.ok(readyResolved, 'ready pending while the reader does not read');
  const r = b.readable.getReader();
  let got = 0;
  while (got < written) got += (await r.read()).value!.byteLength;
  await w.ready;
  assert.ok(readyResolved);
  await w.close();
  assert.equal((await r.read()).done, true);
});

test('pipe: empty chunks are dropped; non-bytes rejected', async () => {
  const [a, b] = createPipePair();
  const w = a.writable.getWriter();
  await w.write(new Uint8Array(0));
  await w.write(bytes(5));
  const r = b.readable.getReader();
  assert.equal(Array.from((await r.read()).value!), [5]);
  let err: unknown;
  await w.write('nope' as unknown as Uint8Array).catch((e) => (err = e));
  assert.instance(err, TypeError);
  await r.read().catch(() => {});
});

test('pipe: reset errors both ends', async () => {
  const [a, b] = createPipePair();
  const ra = a.readable.getReader();
  const rb = b.readable.getReader();
  const pa = ra.read();
  const pb = rb.read();
  const boom = new Error('rst');
  a.reset(boom);
  let ea: unknown, eb: unknown;
  await pa.catch((e) => (ea = e));
  await pb.catch((e) => (eb = e));
  assert.is(ea, boom);
  assert.is(eb, boom);
  let ew: unknown;
  await b.writable.getWriter().write(bytes(1)).catch((e) => (ew = e));
  assert.is(ew, boom);
  b.reset(); // idempotent
});

test('pipe: cancelling a readable errors the peer writable (like RST on read shutdown)', async () => {
  const [a, b] = createPipePair({ highWaterMark: 0 });
  await b.readable.cancel(new Error('gone'));
  let err: unknown;
  await a.writable.getWriter().write(bytes(1)).catch((e) => (err = e));
  assert.ok(err);
});

test('pipe: invalid highWaterMark', () => {
  assert.throws(() => createPipePair({ highWaterMark: -1 }), RangeError);
});

test.run();
