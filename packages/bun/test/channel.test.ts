/**
 * The binding's `channel` (the session's ByteChannel) over real loopback TCP: reads for the handshake, then push
 * mode with pause/resume backpressure, the input's end and the write side's end reported once each, cancel,
 * abort, and the WHATWG pair never created when the channel is used.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChannelSink } from '@streamsocket/session';
import { bytes, sameBytes, skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { inBun } from './sides.js';
import { pair, concat } from './_pair.js';

const T = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A sink that records what it hears and can be told to pause the channel after each chunk. */
class Recorder implements ChannelSink {
  readonly chunks: Uint8Array[] = [];
  eof = 0;
  readErrors: unknown[] = [];
  writeEnds: unknown[] = [];
  onData(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }
  onEof(): void {
    this.eof++;
  }
  onReadError(e: unknown): void {
    this.readErrors.push(e);
  }
  onWriteEnd(e: unknown): void {
    this.writeEnds.push(e);
  }
  bytes(): number {
    return this.chunks.reduce((k, c) => k + c.byteLength, 0);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > T) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

if (inBun) {
  const s = suite('bun: SocketBinding channel');

  s('read() (handshake), then listen(): every byte once, in order, head first; EOF and write end reported once', async () => {
    const { a, b } = await pair({}, { head: bytes(7, 99) });
    const sent = [bytes(100, 1), bytes(5000, 2), bytes(70_000, 3)];
    a.write(sent[0]!);
    const first = await within(T, b.read(), 'first read');
    assert.not.ok(first.done);
    assert.ok(sameBytes(first.value!, bytes(7, 99)), 'the head comes first');
    const second = await within(T, b.read(), 'second read');
    const got: Uint8Array[] = [second.value!];
    a.write(sent[1]!);
    a.write(sent[2]!);
    const rec = new Recorder();
    b.listen(rec);
    await within(T, a.end(), 'a ends');
    await until(() => rec.eof === 1, 'EOF reported');
    assert.ok(sameBytes(concat([...got, ...rec.chunks]), concat(sent)), 'content or order differs');
    // b's write side: end() reports null once, after the FIN.
    await within(T, b.end(), 'b ends');
    assert.equal(rec.writeEnds, [null]);
    assert.is(rec.eof, 1);
    assert.is(rec.readErrors.length, 0);
    await within(T, Promise.all([a.closed, b.closed]), 'both closed');
  });

  s('push mode backpressure: a paused sink stops the socket reads; the peer stalls, then everything arrives', async () => {
    const { a, b } = await pair({}, { readHighWaterMark: 16 * 1024 });
    const rec = new Recorder();
    b.listen(rec);
    b.pause();
    const total = 16 * 1024 * 1024;
    const data = bytes(total, 7);
    let written = 0;
    let stalled = false;
    for (let i = 0; written < total && i < 10_000; i++) {
      const c = data.subarray(written, Math.min(total, written + 64 * 1024));
      written += c.byteLength;
      if (!a.write(c)) {
        const ok = await Promise.race([a.drained().then(() => true), sleep(300).then(() => false)]);
        if (!ok) {
          stalled = true;
          break;
        }
      } else if (i % 4 === 3) await sleep(0);
    }
    assert.ok(stalled, `the writer never stalled (${written} bytes written)`);
    assert.is(rec.bytes(), 0, 'a paused sink got data');
    assert.ok(written < total, 'everything was accepted while the reader was paused');
    b.resume();
    const rest = data.subarray(written);
    const writing = (async () => {
      await a.drained();
      for (let o = 0; o < rest.byteLength; o += 64 * 1024) {
        if (!a.write(rest.subarray(o, o + 64 * 1024))) await a.drained();
      }
      await a.end();
    })();
    await within(T, writing, 'the writer finishes once the reader resumed');
    await until(() => rec.eof === 1, 'EOF after all data');
    assert.ok(sameBytes(concat(rec.chunks), data), 'content or order differs');
    await b.end();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');
  });

  s('EOF waits for the chunks queued while paused; cancel drops the queue and reports nothing more', async () => {
    const { a, b } = await pair();
    const rec = new Recorder();
    b.listen(rec);
    b.pause();
    a.write(bytes(300, 1));
    await a.end();
    await sleep(50);
    assert.is(rec.eof, 0, 'EOF reported before the queued data');
    b.resume();
    assert.is(rec.bytes(), 300);
    assert.is(rec.eof, 1);
    await b.end();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');

    const p2 = await pair();
    const rec2 = new Recorder();
    p2.b.listen(rec2);
    p2.b.pause();
    p2.a.write(bytes(300, 2));
    await sleep(50);
    await p2.b.cancel();
    p2.b.resume();
    await p2.a.end();
    await p2.b.end();
    await within(T, Promise.all([p2.a.closed, p2.b.closed]), 'closed after cancel (drained to the FIN)');
    assert.is(rec2.bytes(), 0);
    assert.is(rec2.eof, 0, 'no EOF after a cancel');
  });

  s('abort: the peer sees the end, our sink hears the read error and the write end once each', async () => {
    const { a, b } = await pair();
    const rec = new Recorder();
    a.listen(rec);
    a.abort(new Error('boom'));
    await within(T, a.closed, 'closed');
    assert.is(rec.readErrors.length, 1);
    assert.match(String(rec.readErrors[0]), /boom/);
    assert.is(rec.writeEnds.length, 1);
    assert.match(String(rec.writeEnds[0]), /boom/);
    assert.is(a.write(bytes(4, 1)), false, 'writes after abort are discarded');
    await a.read().then(
      () => assert.unreachable('read after listen must fail'),
      (e: Error) => assert.instance(e, TypeError),
    );
    const recB = new Recorder();
    b.listen(recB);
    await until(() => recB.eof + recB.readErrors.length === 1, 'peer sees EOF or reset');
    b.destroy();
  });

  s('one reader: the readable is refused once the channel reads, and the channel once the readable exists', async () => {
    const { a, b } = await pair();
    b.listen(new Recorder());
    assert.throws(() => b.readable, /channel/);
    const r = a.readable; // the stream API still works when the channel does not read
    await a.read().then(
      () => assert.unreachable('channel read with a readable'),
      (e: Error) => assert.instance(e, TypeError),
    );
    assert.ok(r instanceof ReadableStream);
    a.destroy();
    b.destroy();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');
  });

  s.run();
} else {
  skipOutside('Bun', 'channel.test.ts');
}
