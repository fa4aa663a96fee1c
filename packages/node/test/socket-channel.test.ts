import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { socketChannel } from '../src/index.js';

async function pair(host = '127.0.0.1'): Promise<[net.Socket, net.Socket, () => void]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, host);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const srv = await accepted;
  server.close();
  return [client, srv, () => { client.destroy(); srv.destroy(); }];
}

const within = <T>(p: Promise<T>, ms = 3000, what = 'operation'): Promise<T> =>
  Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what} timed out`)), ms).unref())]);

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of r as unknown as AsyncIterable<Uint8Array>) out.push(c);
  return out;
}
const concat = (cs: Uint8Array[]): Uint8Array => {
  const n = cs.reduce((a, c) => a + c.byteLength, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of cs) { out.set(c, o); o += c.byteLength; }
  return out;
};

test('bytes round-trip both ways; chunks are plain Uint8Array views; head comes first', async () => {
  const [a, b, done] = await pair();
  try {
    const A = socketChannel(a);
    const B = socketChannel(b, { head: new Uint8Array([1, 2, 3]) });
    // B answers first: sockets are not half-open (allowHalfOpen false), so A's FIN also ends B's side.
    const wb = B.writable.getWriter();
    await wb.write(new TextEncoder().encode('back'));
    const backP = within(readAll(A.readable));
    const wa = A.writable.getWriter();
    await wa.write(new Uint8Array([4, 5]));
    await wa.write(new Uint8Array(0));
    await wa.write(new Uint8Array([6]));
    await wa.close();
    const got = await within(readAll(B.readable));
    for (const c of got) {
      assert.is(Object.getPrototypeOf(c), Uint8Array.prototype);
    }
    assert.equal([...concat(got)], [1, 2, 3, 4, 5, 6]);
    await wb.close();
    const back = await backP;
    assert.is(new TextDecoder().decode(concat(back)), 'back');
    await within(new Promise((r) => (a.destroyed ? r(null) : a.once('close', r))));
    assert.ok(a.destroyed, 'socket released once both directions finished');
  } finally { done(); }
});

test('works over ::1', async () => {
  let p: [net.Socket, net.Socket, () => void];
  try { p = await pair('::1'); } catch { console.log('  (no IPv6 loopback, skipped)'); return; }
  const [a, b, done] = p;
  try {
    const A = socketChannel(a); const B = socketChannel(b);
    const w = A.writable.getWriter();
    await w.write(new Uint8Array([42]));
    await w.close();
    assert.equal([...concat(await within(readAll(B.readable)))], [42]);
  } finally { done(); }
});

test('readable backpressure: a reader that stops reading pauses the socket', async () => {
  const [a, b, done] = await pair();
  try {
    const B = socketChannel(b, { readHighWaterMark: 16 * 1024 });
    const big = new Uint8Array(1024 * 1024);
    let drained = 0;
    // The sender writes until Node's own buffer stays full: the receiver is paused, so the kernel buffers fill.
    for (let i = 0; i < 32; i++) if (!a.write(big)) drained++;
    await new Promise((r) => setTimeout(r, 200));
    const readSoFar = b.bytesRead;
    assert.ok(readSoFar < 32 * 1024 * 1024, `receiver must not read everything (read ${readSoFar})`);
    assert.ok(b.isPaused(), 'socket paused');
    assert.ok(drained > 0);
    // Now read everything: resumes.
    a.end();
    const total = concat(await within(readAll(B.readable), 10_000)).byteLength;
    assert.is(total, 32 * 1024 * 1024);
  } finally { done(); }
});

test('writable backpressure: write() waits for drain when the peer does not read', async () => {
  const [a, b, done] = await pair();
  try {
    b.pause();
    const A = socketChannel(a);
    const w = A.writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let pending = false;
    for (let i = 0; i < 200 && !pending; i++) {
      const p = w.write(chunk);
      const state = await Promise.race([p.then(() => 'done'), new Promise((r) => setTimeout(() => r('pending'), 20))]);
      if (state === 'pending') pending = true;
    }
    assert.ok(pending, 'a write stayed pending while the peer did not read');
    assert.ok(w.desiredSize !== null && w.desiredSize <= 0);
    b.resume();
    await within(w.ready, 5000, 'ready after drain');
    w.releaseLock();
    await A.writable.abort();
  } finally { done(); }
});

test('peer FIN closes the readable cleanly (EOF)', async () => {
  const [a, b, done] = await pair();
  try {
    const A = socketChannel(a);
    b.end();
    assert.equal(await within(readAll(A.readable)), []);
  } finally { done(); }
});

test('peer reset errors both streams; abort() destroys the socket', async () => {
  const [a, b, done] = await pair();
  try {
    const A = socketChannel(a);
    const reader = A.readable.getReader();
    const w = A.writable.getWriter();
    b.resetAndDestroy();
    const err = await within(reader.read().then(() => null, (e: unknown) => e));
    assert.ok(err instanceof Error, 'read rejected');
    await within(w.closed.then(() => assert.unreachable('closed cleanly'), () => {}));

    const [c, d, done2] = await pair();
    try {
      const C = socketChannel(c);
      const dClosed = new Promise((r) => { d.on('error', () => {}); d.once('close', r); });
      await C.writable.abort(new Error('bye'));
      assert.ok(c.destroyed);
      await within(dClosed);
      await C.readable.getReader().read().then(() => assert.unreachable('read ok'), () => {});
    } finally { done2(); }
  } finally { done(); }
});

test('cancel keeps draining so the peer FIN still releases the socket', async () => {
  const [a, b, done] = await pair();
  try {
    const A = socketChannel(a);
    await A.readable.cancel();
    b.write(new Uint8Array(100_000));
    b.end();
    await A.writable.close();
    await within(new Promise((r) => (a.destroyed ? r(null) : a.once('close', r))));
  } finally { done(); }
});

test('writes of one turn leave in one writev; channel and writable writes keep their order', async () => {
  const [a, b, done] = await pair();
  try {
    const A = socketChannel(a);
    const B = socketChannel(b);
    const w = A.writable.getWriter();
    let writes = 0;
    const orig = (a as unknown as { _writev: (...x: unknown[]) => unknown })._writev;
    const origOne = (a as unknown as { _write: (...x: unknown[]) => unknown })._write;
    (a as unknown as { _writev: unknown })._writev = function (this: unknown, ...x: unknown[]) { writes++; return orig.apply(this, x); };
    (a as unknown as { _write: unknown })._write = function (this: unknown, ...x: unknown[]) { writes++; return origOne.apply(this, x); };
    await w.ready; // started: from now on a writable write reaches the socket within write()
    // One turn: a writable write (reaches the sink at once) and channel writes after it.
    const first = w.write(new Uint8Array([1]));
    assert.ok(A.write(new Uint8Array([2])));
    assert.ok(A.write(new Uint8Array(0)));
    assert.ok(A.write(new Uint8Array([3])));
    assert.is(A.congested, false);
    await first;
    await A.drained();
    await new Promise((r) => setImmediate(r));
    assert.is(writes, 1, 'one syscall-level write for the whole turn');
    // Later turns: order is call order once each writable write settled.
    await w.write(new Uint8Array([4]));
    A.write(new Uint8Array([5]));
    await w.close();
    const got = concat(await within(readAll(B.readable)));
    assert.equal([...got], [1, 2, 3, 4, 5]);
    assert.is(A.write(new Uint8Array([6])), false, 'discards after close');
  } finally { done(); }
});

test('small chunks gathered per turn keep their order around larger ones and before close', async () => {
  const [a, b, done] = await pair();
  try {
    const A = socketChannel(a);
    const B = socketChannel(b);
    const big = new Uint8Array(3000).fill(7);
    A.write(new Uint8Array([1, 2]));
    A.write(big);
    A.write(new Uint8Array([3]));
    A.write(new Uint8Array([4]));
    await A.writable.close(); // in the same turn: the gathered bytes go before the FIN
    const got = concat(await within(readAll(B.readable)));
    assert.equal([...got.subarray(0, 2)], [1, 2]);
    assert.ok(got.subarray(2, 3002).every((x) => x === 7));
    assert.equal([...got.subarray(3002)], [3, 4]);
  } finally { done(); }
});

test('channel writes: congested above writeHighWaterMark, drained() resolves once the peer reads', async () => {
  const [a, b, done] = await pair();
  try {
    b.pause();
    const A = socketChannel(a, { writeHighWaterMark: 64 * 1024 });
    const chunk = new Uint8Array(32 * 1024);
    // Each turn's writes are flushed at its end; keep going until the kernel buffers are full too.
    for (let turn = 0; turn < 2000 && !A.congested; turn++) {
      while (A.write(chunk)) { /* until the mark */ }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(A.congested, 'congested once the mark is reached and the kernel does not take more');
    let drained = false;
    const p = A.drained().then(() => { drained = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.is(drained, false, 'still waiting while the peer does not read');
    b.resume();
    await within(p, 5000, 'drained');
    assert.is(A.congested, false);
    await A.writable.abort();
  } finally { done(); }
});

test('channel: read() serves the head then the socket; listen() pushes, pause() queues, resume() delivers in order; end/abort reported once', async () => {
  const [a, b, done] = await pair();
  try {
    const B = socketChannel(b, { head: [new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2])], readHighWaterMark: 4 });
    const ch = B;
    assert.equal([...((await within(ch.read())).value as Uint8Array)], [1]);
    assert.equal([...((await within(ch.read())).value as Uint8Array)], [2]);
    const pending = ch.read();
    a.write(new Uint8Array([3, 4]));
    assert.equal([...((await within(pending)).value as Uint8Array)], [3, 4]);
    const got: number[] = [];
    const events: string[] = [];
    let onData = (c: Uint8Array): void => void got.push(...c);
    const sink = {
      onData: (c: Uint8Array) => onData(c),
      onEof: () => void events.push('eof'),
      onReadError: (e: unknown) => void events.push(`error ${(e as Error).message}`),
      onWriteEnd: (e: unknown) => void events.push(e === null ? 'write end' : `write error`),
    };
    ch.listen(sink);
    let rejected = false;
    await ch.read().catch(() => { rejected = true; });
    assert.ok(rejected, 'no read() once listening');
    ch.pause();
    a.write(new Uint8Array([5, 6, 7, 8, 9]));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got, [], 'nothing delivered while paused');
    assert.ok(b.isPaused(), 'socket paused once the queue holds the high-water mark');
    onData = (c) => { got.push(...c); };
    ch.resume();
    assert.equal(got, [5, 6, 7, 8, 9]);
    const back: number[] = [];
    a.on('data', (c: Buffer) => back.push(...c));
    assert.ok(ch.write(new Uint8Array([42])));
    await within(ch.end());
    assert.equal(events, ['write end']);
    a.end(new Uint8Array([10]));
    await within(new Promise<void>((r) => { const t = setInterval(() => { if (events.includes('eof')) { clearInterval(t); r(); } }, 5); }));
    assert.equal(got, [5, 6, 7, 8, 9, 10]);
    assert.equal(events, ['write end', 'eof']);
    assert.equal(back, [42]);
  } finally { done(); }
});

test('channel: a reset rejects a pending read; abort() reports the write end with its reason; streams are made only on access', async () => {
  const [a, b, done] = await pair();
  try {
    const B = socketChannel(b);
    const r = B.read();
    a.resetAndDestroy();
    const err = await within(r.then(() => null, (e: unknown) => e));
    assert.ok(err instanceof Error);
    const [c, d, done2] = await pair();
    try {
      const D = socketChannel(d);
      const events: unknown[] = [];
      D.listen({ onData() {}, onEof() { events.push('eof'); }, onReadError(e) { events.push(e); }, onWriteEnd(e) { events.push(e); } });
      const reason = new Error('bye');
      D.abort(reason);
      assert.equal(events, [reason, reason], 'input error and write end, once each');
      assert.ok(d.destroyed);
      assert.is(D.write(new Uint8Array([1])), false);
      void c;
    } finally { done2(); }
  } finally { done(); }
});

test.run();
