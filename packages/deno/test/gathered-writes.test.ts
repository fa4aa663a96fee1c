/**
 * The binding's write gathering (packages/deno/src/conn-channel.ts): the chunks of one turn leave in one
 * `conn.write()`, in order, as do those written while a write is in flight; large chunks go out unchanged;
 * partial writes are retried; backpressure stays real (`direct.congested`/`drained()`, the sink's promise);
 * pooled gather buffers are not touched while Deno holds them; close flushes first. A fake conn controls when
 * each write settles and how much it takes; a real loopback pair checks the same end to end.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connChannel, type ConnLike } from '../src/index.js';
import { bytes, sameBytes, skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { inDeno } from './sides.js';

const T = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Lets this turn's microtasks, the end-of-turn flush and settled writes run. */
const turn = (): Promise<void> => sleep(0);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((k, p) => k + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/**
 * A conn whose writes settle when the test says so (`hold`), taking at most `accept` bytes each. Bytes are
 * copied when a write settles, not when it starts: a binding that reused a buffer Deno still holds would be
 * caught by the content check.
 */
class FakeConn implements ConnLike {
  readonly calls: Uint8Array[] = [];
  readonly got: Uint8Array[] = [];
  accept = Infinity;
  hold = false;
  closedWrite = 0;
  private held: Array<() => void> = [];
  read(): Promise<number | null> {
    return new Promise<number | null>(() => {}); // never: these tests only write
  }
  write(p: Uint8Array): Promise<number> {
    this.calls.push(p);
    return new Promise<number>((resolve) => {
      const settle = (): void => {
        const n = Math.min(p.byteLength, this.accept);
        this.got.push(p.slice(0, n));
        resolve(n);
      };
      if (this.hold) this.held.push(settle);
      else queueMicrotask(settle);
    });
  }
  release(): void {
    this.hold = false;
    const h = this.held;
    this.held = [];
    for (const settle of h) settle();
  }
  closeWrite(): Promise<void> {
    this.closedWrite++;
    return Promise.resolve();
  }
  close(): void {}
  received(): Uint8Array {
    return concat(this.got);
  }
}

if (inDeno) {
  const s = suite('deno: gathered writes');

  s('everything written in one turn leaves in one conn.write, in order (direct and writable mixed)', async () => {
    const conn = new FakeConn();
    const c = connChannel(conn);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) parts.push(bytes(1 + (i % 40), i));
    const w = c.writable.getWriter();
    await w.ready; // started: a write now reaches the sink within writer.write()
    for (let i = 0; i < 100; i++) assert.ok(c.write(parts[i]!));
    assert.is(conn.calls.length, 0, 'nothing is written before the end of the turn');
    void w.write(parts[100]!);
    for (let i = 101; i < 200; i++) c.write(parts[i]!);
    await turn();
    assert.is(conn.calls.length, 1, `expected one write, got ${conn.calls.length}`);
    assert.ok(sameBytes(conn.received(), concat(parts)), 'content or order differs');
    w.releaseLock();
    c.destroy();
  });

  s('chunks written while a write is in flight go out together in the next one; large chunks unchanged', async () => {
    const conn = new FakeConn();
    const c = connChannel(conn);
    conn.hold = true;
    c.write(bytes(100, 1));
    await turn();
    assert.is(conn.calls.length, 1);
    const later = [bytes(10, 2), bytes(20, 3), bytes(30, 4)];
    for (const p of later) c.write(p);
    const big = bytes(300 * 1024, 5);
    c.write(big);
    c.write(bytes(7, 6));
    await turn();
    assert.is(conn.calls.length, 1, 'nothing more while the first write is in flight');
    conn.release();
    await turn();
    await turn();
    assert.equal(conn.calls.map((p) => p.byteLength), [100, 60, 300 * 1024, 7]);
    assert.is(conn.calls[2], big, 'a chunk above the gathering limit is written as it is (no copy)');
    assert.ok(sameBytes(conn.received(), concat([bytes(100, 1), ...later, big, bytes(7, 6)])));
    c.destroy();
  });

  s('partial writes are retried from where they stopped', async () => {
    const conn = new FakeConn();
    const c = connChannel(conn);
    const parts = [bytes(1000, 1), bytes(2000, 2), bytes(3000, 3)];
    conn.accept = 700;
    for (const p of parts) c.write(p);
    const w = c.writable.getWriter();
    // close() waits for every byte: 6000 bytes at 700 per write.
    await within(T, w.close(), 'close after the partial writes');
    assert.ok(conn.calls.length >= 9, `${conn.calls.length} writes`);
    assert.ok(sameBytes(conn.received(), concat(parts)));
    assert.is(conn.closedWrite, 1);
    c.destroy();
  });

  s('backpressure: writers wait while more than the mark is queued or in flight; pooled buffers stay intact', async () => {
    const conn = new FakeConn();
    const c = connChannel(conn, { writeHighWaterMark: 4096 });
    conn.hold = true;
    const sent: Uint8Array[] = [];
    let ok = true;
    for (let i = 0; ok && i < 1000; i++) {
      const p = bytes(300, 100 + i);
      sent.push(p);
      ok = c.write(p);
    }
    assert.not.ok(ok, 'never congested');
    const accepted = sent.length * 300;
    assert.ok(accepted <= 4096 + 300, `accepted ${accepted} bytes before reporting congestion`);
    assert.ok(c.congested);
    let drained = false;
    const waiting = c.drained().then(() => (drained = true));
    const w = c.writable.getWriter();
    const tail = bytes(50, 9);
    let sinkDone = false;
    const sinkWrite = w.write(tail).then(() => (sinkDone = true));
    await turn();
    assert.is(conn.calls.length, 1, 'one gathered write in flight');
    // Another connection gathering meanwhile must not get the buffer this write still holds.
    const other = new FakeConn();
    const o = connChannel(other);
    other.hold = true;
    for (let i = 0; i < 20; i++) o.write(bytes(100, 7000 + i));
    await turn();
    await turn();
    assert.not.ok(drained, 'drained() resolved while the write was in flight');
    assert.not.ok(sinkDone, 'the sink write settled while congested');
    conn.release();
    other.release();
    await within(T, waiting, 'drained() once the write settled');
    await within(T, sinkWrite, 'sink write settles');
    await w.close();
    assert.ok(sameBytes(conn.received(), concat([...sent, tail])), 'content differs: a lent buffer was reused');
    const oParts: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) oParts.push(bytes(100, 7000 + i));
    assert.ok(sameBytes(other.received(), concat(oParts)));
    c.destroy();
    o.destroy();
  });

  s('a failed write discards: direct writes return false, drained() and the sink report it', async () => {
    const conn = new FakeConn();
    conn.write = () => Promise.reject(new Error('broken pipe'));
    const c = connChannel(conn, { writeHighWaterMark: 10 });
    c.write(bytes(20, 1));
    const waiting = c.drained();
    await within(T, waiting, 'drained() settles on failure');
    assert.is(c.write(bytes(4, 2)), false);
    await c.writable.getWriter().write(bytes(4, 3)).then(
      () => assert.unreachable('a sink write after the failure must reject'),
      (e: Error) => assert.match(e.message, /broken pipe/),
    );
    c.destroy();
  });

  s('loopback: direct writes in order through a peer that reads slowly', async () => {
    const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const [server, client] = await Promise.all([l.accept(), Deno.connect({ hostname: '127.0.0.1', port: l.addr.port })]);
    l.close();
    const a = connChannel(client, { writeHighWaterMark: 64 * 1024 });
    const b = connChannel(server);
    const sent: Uint8Array[] = [];
    let seq = 0;
    const writing = (async () => {
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < 32; i++) {
          const p = bytes(50 + ((seq * 37) % 3000), seq++);
          sent.push(p);
          if (!a.write(p)) await a.drained();
        }
        await turn();
      }
      await a.writable.close();
    })();
    await sleep(50); // the peer starts late: the kernel buffers fill first
    const parts: Uint8Array[] = [];
    for await (const ch of b.readable as unknown as AsyncIterable<Uint8Array>) parts.push(ch);
    await within(T, writing, 'writer done');
    assert.ok(sameBytes(concat(parts), concat(sent)), 'content or order differs');
    await b.writable.close();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');
  });

  s.run();
} else {
  skipOutside('Deno', 'gathered-writes.test.ts');
}
