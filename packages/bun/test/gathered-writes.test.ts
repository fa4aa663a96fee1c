/**
 * The binding's write gathering (packages/bun/src/socket-channel.ts): everything written in one turn leaves in
 * one `socket.write()`, in order; partial writes keep the rest (copied out of the shared scratch buffer) and
 * drain it; backpressure stays real (`congested`, `drained()`, the sink's promise); close flushes first. A fake
 * socket makes partial writes and drains deterministic; a real loopback pair checks the same end to end.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SocketBinding, type Channel, type SocketChannelOptions } from '../src/index.js';
import { bytes, sameBytes, skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { inBun } from './sides.js';
import { pair, concat } from './_pair.js';

const T = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Lets this loop iteration's microtasks and the binding's flush (one setImmediate for all bindings) run. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A socket that takes at most `accept` bytes per write (copying them, as the kernel does) until told otherwise. */
class FakeSocket {
  data: unknown = null;
  readonly readyState = 'open';
  readonly remoteAddress = '127.0.0.1';
  readonly localPort = 1;
  /** Copies of every write's accepted bytes, one entry per write() call. */
  readonly writes: Uint8Array[] = [];
  /** The byteLength each write() was called with. */
  readonly offered: number[] = [];
  accept = Infinity;
  closedFlag = false;
  shutdowns = 0;
  write(data: Uint8Array, byteOffset = 0, byteLength = data.byteLength - byteOffset): number {
    if (this.closedFlag) return -1;
    const d = data.subarray(byteOffset, byteOffset + byteLength); // as Bun: write(data, byteOffset, byteLength)
    this.offered.push(d.byteLength);
    const n = Math.min(d.byteLength, this.accept);
    this.accept -= n;
    if (n > 0) this.writes.push(d.slice(0, n));
    return n;
  }
  received(): Uint8Array {
    return concat(this.writes);
  }
  shutdown(): void {
    this.shutdowns++;
  }
  end(): void {}
  terminate(): void {
    this.closedFlag = true;
  }
  pause(): void {}
  resume(): void {}
}

/** `b`: the channel the session drives; `port`: the binding under it, whose socket events the test plays. */
function fake(opts: SocketChannelOptions = {}): { b: Channel; port: SocketBinding; s: FakeSocket } {
  const port = new SocketBinding(opts);
  const s = new FakeSocket();
  port.attach(s as unknown as Bun.Socket<SocketBinding>);
  return { b: port.channel, port, s };
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of r as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return concat(parts);
}

if (inBun) {
  const s = suite('bun: gathered writes');

  s('everything written in one loop iteration leaves in one socket.write, in order (direct and writable mixed)', async () => {
    const { b, s: sock } = fake();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) parts.push(bytes(1 + (i % 40), i));
    const w = b.writable.getWriter();
    await w.ready; // started: a write now reaches the sink within writer.write()
    for (let i = 0; i < 100; i++) assert.ok(b.write(parts[i]!));
    assert.is(sock.offered.length, 0, 'nothing is written before the end of the loop iteration');
    void w.write(parts[100]!);
    for (let i = 101; i < 200; i++) b.write(parts[i]!);
    await turn();
    assert.equal(sock.offered.length, 1, `expected one write, got ${sock.offered.length}`);
    assert.ok(sameBytes(sock.received(), concat(parts)), 'content or order differs');
    w.releaseLock();
  });

  s('a chunk above the gathering limit goes out as it is, after what was gathered before it', async () => {
    const { b, s: sock } = fake();
    const small1 = bytes(10, 1);
    const big = bytes(200 * 1024, 2);
    const small2 = bytes(20, 3);
    b.write(small1);
    b.write(big);
    b.write(small2);
    assert.equal(sock.offered, [10, 200 * 1024], 'the gathered bytes first, then the large chunk unchanged');
    await turn();
    assert.equal(sock.offered, [10, 200 * 1024, 20]);
    assert.ok(sameBytes(sock.received(), concat([small1, big, small2])));
  });

  s('partial writes: the rest is kept (copied out of the shared scratch), drained in order, writers wait', async () => {
    const hwm = 1024;
    const x = fake({ writeHighWaterMark: hwm });
    const y = fake({ writeHighWaterMark: hwm }); // a second binding flushing in the same turn reuses the scratch
    x.s.accept = 0;
    y.s.accept = 50;
    const xs: Uint8Array[] = [];
    const ys: Uint8Array[] = [];
    let xOk = true;
    for (let i = 0; xOk && i < 1000; i++) {
      const c = bytes(64, 1000 + i);
      xs.push(c);
      xOk = x.b.write(c);
      const d = bytes(48, 5000 + i);
      ys.push(d);
      y.b.write(d);
    }
    assert.not.ok(xOk, 'the binding reports congestion');
    assert.ok(x.b.congested);
    const xBytes = xs.length * 64;
    assert.ok(xBytes <= hwm + 64, `accepted ${xBytes} bytes before reporting congestion`);
    await turn(); // both flush: 0 and 50 bytes accepted, the rest is kept
    assert.ok(x.b.congested, 'still congested: the socket took nothing');
    let drained = false;
    const waiting = x.b.drained().then(() => (drained = true));
    // The sink's promise waits too.
    const w = x.b.writable.getWriter();
    const tail = bytes(30, 77);
    let sinkDone = false;
    const sinkWrite = w.write(tail).then(() => (sinkDone = true));
    await turn();
    assert.not.ok(drained);
    assert.not.ok(sinkDone);
    // The socket takes a little more on each drain, then everything.
    x.s.accept = 200;
    x.port.onDrain();
    y.s.accept = Infinity;
    y.port.onDrain();
    await turn();
    assert.not.ok(drained, 'drained() resolved while the backlog was still there');
    x.s.accept = Infinity;
    x.port.onDrain();
    await within(T, waiting, 'drained() after the backlog is out');
    await within(T, sinkWrite, 'the sink write settles');
    await turn();
    assert.not.ok(x.b.congested);
    assert.ok(sameBytes(x.s.received(), concat([...xs, tail])), 'x: content or order differs');
    assert.ok(sameBytes(y.s.received(), concat(ys)), 'y: content or order differs (scratch shared between bindings)');
    w.releaseLock();
  });

  s('close flushes what was gathered and waits for the backlog before the FIN', async () => {
    const { b, port, s: sock } = fake();
    sock.accept = 5;
    const w = b.writable.getWriter();
    await w.write(bytes(10, 1));
    b.write(bytes(10, 2));
    const closing = w.close();
    await turn();
    assert.is(sock.shutdowns, 0, 'FIN before the data');
    sock.accept = Infinity;
    port.onDrain();
    await within(T, closing, 'close settles');
    assert.is(sock.shutdowns, 1);
    assert.ok(sameBytes(sock.received(), concat([bytes(10, 1), bytes(10, 2)])));
  });

  s('after the socket closed, channel writes are discarded (false, no throw) and waiters are released', async () => {
    const { b, port, s: sock } = fake({ writeHighWaterMark: 16 });
    sock.accept = 0;
    b.write(bytes(32, 1));
    await turn();
    assert.ok(b.congested);
    const waiting = b.drained();
    sock.closedFlag = true;
    port.onClose(new Error('reset'));
    await within(T, waiting, 'drained() settles on failure');
    assert.is(b.write(bytes(4, 2)), false);
    await b.writable.getWriter().write(bytes(4, 3)).then(
      () => assert.unreachable('a sink write after the failure must reject'),
      (e: Error) => assert.match(e.message, /reset/),
    );
  });

  s('loopback: a peer that does not read makes direct writes congested; bytes arrive in order once it reads', async () => {
    const { a, b } = await pair({ writeHighWaterMark: 64 * 1024 }, { readHighWaterMark: 16 * 1024 });
    // b does not read: the kernel buffers fill, then Bun's writes come back partial.
    const sent: Uint8Array[] = [];
    let seq = 0;
    let congestedAfter = -1;
    for (let round = 0; round < 2000 && congestedAfter < 0; round++) {
      for (let i = 0; i < 64; i++) {
        const c = bytes(100 + (seq % 900), seq++);
        sent.push(c);
        if (!a.write(c)) {
          congestedAfter = sent.reduce((k, p) => k + p.byteLength, 0);
          break;
        }
      }
      await turn();
    }
    assert.ok(congestedAfter > 0, 'never congested');
    // What is kept in the process stays bounded by the mark plus one turn's writes.
    assert.ok(a.congested);
    const drained = a.drained();
    const early = await Promise.race([drained.then(() => true), sleep(100).then(() => false)]);
    assert.not.ok(early, 'drained() resolved while the peer was not reading');
    const reading = readAll(b.readable);
    await within(T, drained, 'drained once the peer reads');
    await a.writable.close();
    const got = await within(T, reading, 'peer reads to EOF');
    assert.ok(sameBytes(got, concat(sent)), 'content or order differs');
    await b.writable.close();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');
  });

  s.run();
} else {
  skipOutside('Bun', 'gathered-writes.test.ts');
}
