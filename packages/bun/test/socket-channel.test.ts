/**
 * The Bun socket <-> { readable, writable } binding on its own, over real loopback TCP: half-close, no reuse of
 * data chunks, backpressure both ways (pause/resume, partial writes retried on drain), draining after cancel,
 * the linger bound and abort.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bytes, sameBytes, skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { inBun, makeCerts } from './sides.js';
import { concat, pair } from './_pair.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const T = 10_000;

async function readAll(r: ReadableStream<Uint8Array>, keep?: Uint8Array[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = keep ?? [];
  for await (const c of r as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return concat(parts);
}

if (inBun) {
  const s = suite('bun: SocketBinding');

  s('half-close: after our FIN we still read the reply, then both ends close', async () => {
    const { a, b } = await pair();
    const w = a.writable.getWriter();
    await w.write(enc.encode('question'));
    await w.close();
    assert.is(dec.decode(await within(T, readAll(b.readable), 'server reads to EOF')), 'question');
    const bw = b.writable.getWriter();
    await bw.write(enc.encode('answer after your FIN'));
    await bw.close();
    assert.is(dec.decode(await within(T, readAll(a.readable), 'client reads reply')), 'answer after your FIN');
    await within(T, Promise.all([a.closed, b.closed]), 'both sockets closed');
  });

  const noReuse = (tls: boolean) => async () => {
    const { a, b } = await pair({}, {}, tls ? await makeCerts() : undefined);
    const data = bytes(8 * 1024 * 1024, 11);
    const w = b.writable.getWriter();
    const writing = (async () => {
      for (let o = 0; o < data.byteLength; o += 1024 * 1024) await w.write(data.subarray(o, o + 1024 * 1024));
      await w.close();
    })();
    const chunks: Uint8Array[] = [];
    const all = await within(T, readAll(a.readable, chunks), 'read 8 MiB');
    await writing;
    assert.ok(sameBytes(all, data), 'content differs');
    assert.ok(chunks.length > 1);
    assert.is(new Set(chunks.map((c) => c.buffer)).size, chunks.length, 'two chunks share an ArrayBuffer');
    await a.writable.close();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');
  };
  s('data chunks are not reused by Bun: retained chunks keep their bytes (so no copy is made)', noReuse(false));
  s('data chunks are not reused by Bun over TLS either', noReuse(true));

  s('backpressure: a reader that stops pauses the socket and the peer writer waits', async () => {
    const { a, b } = await pair({}, { readHighWaterMark: 64 * 1024 });
    const w = a.writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let accepted = 0;
    let blocked = false;
    for (let i = 0; i < 400; i++) {
      const ready = await Promise.race([w.ready.then(() => true), sleep(200).then(() => false)]);
      if (!ready) {
        blocked = true;
        break;
      }
      void w.write(chunk).catch(() => {});
      accepted += chunk.byteLength;
    }
    assert.ok(blocked, `writer never waited (accepted ${accepted} bytes)`);
    assert.ok(accepted < 64 * 1024 * 1024, `accepted ${accepted} bytes before waiting`);
    // The reader resumes: everything arrives and the writer moves again.
    const reading = readAll(b.readable);
    await within(T, w.ready, 'ready after reading resumes');
    await w.close();
    const got = await within(T, reading, 'peer reads to EOF');
    assert.ok(got.byteLength >= accepted);
    await b.writable.close();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');
  });

  s('one 32 MiB write is finished through partial writes and drain', async () => {
    const { a, b } = await pair();
    const data = bytes(32 * 1024 * 1024, 5);
    const w = a.writable.getWriter();
    const written = w.write(data).then(() => w.close());
    const got = await within(T, readAll(b.readable), 'read 32 MiB');
    await within(T, written, 'write settled');
    assert.ok(sameBytes(got, data), 'content differs');
    await b.writable.close();
    await within(T, Promise.all([a.closed, b.closed]), 'closed');
  });

  s('cancel keeps draining until the peer FIN, so the peer never sees a reset', async () => {
    const { a, b } = await pair({ lingerMs: 5_000 });
    await a.readable.cancel();
    const w = a.writable.getWriter();
    await w.write(enc.encode('last words'));
    await w.close();
    const bw = b.writable.getWriter();
    await bw.write(new Uint8Array(200_000)); // dropped by a, unread
    assert.is(dec.decode(await within(T, readAll(b.readable), 'peer reads to EOF')), 'last words');
    await bw.close();
    await within(T, Promise.all([a.closed, b.closed]), 'closed after the peer FIN');
  });

  s('linger is bounded when the peer never sends FIN', async () => {
    const { a, b } = await pair({ lingerMs: 100 });
    await a.readable.cancel();
    await a.writable.close();
    const t0 = Date.now();
    await within(T, a.closed, 'linger timeout');
    assert.ok(Date.now() - t0 < 2_000);
    b.destroy();
  });

  s('abort closes the socket at once and errors the readable; the peer sees the end', async () => {
    const { a, b } = await pair();
    const r = a.readable.getReader();
    await a.writable.abort(new Error('boom'));
    await within(T, a.closed, 'closed');
    await r.read().then(
      () => assert.unreachable('read should fail'),
      (e: Error) => assert.match(e.message, /boom/),
    );
    await within(T, readAll(b.readable).catch(() => null), 'peer sees EOF or reset');
    await within(T, b.closed, 'peer closed');
  });

  s.run();
} else {
  skipOutside('Bun', 'socket-channel.test.ts');
}
