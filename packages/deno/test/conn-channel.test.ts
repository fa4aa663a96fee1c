/**
 * The Deno.Conn <-> { readable, writable } binding on its own, over real loopback TCP: half-close, backpressure
 * both ways, the copy policy of reads, draining after cancel, the linger bound and abort.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connChannel } from '../src/index.js';
import { skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { inDeno } from './sides.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A listener and one accepted + one dialed raw connection. */
async function pair(): Promise<{ server: Deno.Conn; client: Deno.Conn }> {
  const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  try {
    const [server, client] = await Promise.all([l.accept(), Deno.connect({ hostname: '127.0.0.1', port: l.addr.port })]);
    return { server, client };
  } finally {
    l.close();
  }
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of r as unknown as AsyncIterable<Uint8Array>) {
    parts.push(c);
    n += c.byteLength;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Reads a raw conn to EOF; resolves to the byte count, or rejects on a reset. */
async function rawDrain(conn: Deno.Conn): Promise<number> {
  const b = new Uint8Array(65536);
  let n = 0;
  for (;;) {
    const k = await conn.read(b);
    if (k === null) return n;
    n += k;
  }
}

const T = 10_000;

if (inDeno) {
  const s = suite('deno: connChannel binding');

  s('half-close: after our FIN we still read the reply, then both ends close', async () => {
    const { server, client } = await pair();
    const a = connChannel(client);
    const b = connChannel(server);
    const w = a.writable.getWriter();
    await w.write(enc.encode('question'));
    await w.close(); // FIN; a's readable stays open
    const got = await within(T, readAll(b.readable), 'server reads to EOF');
    assert.is(dec.decode(got), 'question');
    const bw = b.writable.getWriter();
    await bw.write(enc.encode('answer after your FIN'));
    await bw.close();
    assert.is(dec.decode(await within(T, readAll(a.readable), 'client reads reply')), 'answer after your FIN');
    await within(T, Promise.all([a.closed, b.closed]), 'both resources closed');
  });

  s('write backpressure: the writer waits while the peer does not read', async () => {
    const { server, client } = await pair();
    const a = connChannel(client, { writeHighWaterMark: 64 * 1024 });
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
    // Bounded by the kernel's socket buffers plus our queue, far below what we tried to write (100 MiB).
    assert.ok(accepted < 64 * 1024 * 1024, `accepted ${accepted} bytes before waiting`);
    // Once the peer reads, the writer moves again.
    const draining = rawDrain(server);
    await within(T, w.ready, 'ready after the peer reads');
    await w.close();
    const total = await within(T, draining, 'peer drains');
    assert.ok(total >= accepted, `peer got ${total} of ${accepted}`);
    server.close();
    await a.closed;
  });

  s('read backpressure: a consumer that stops reading stops the socket reads', async () => {
    const { server, client } = await pair();
    const a = connChannel(client);
    const r = a.readable.getReader();
    let written = 0;
    let stalled = false;
    const chunk = new Uint8Array(1024 * 1024);
    const writer = (async () => {
      try {
        for (;;) {
          written += await server.write(chunk);
        }
      } catch {
        /* closed at the end */
      }
    })();
    await r.read(); // one chunk, then we stop reading
    let last = -1;
    for (let i = 0; i < 50 && !stalled; i++) {
      await sleep(50);
      stalled = written === last;
      last = written;
    }
    assert.ok(stalled, 'the peer kept writing although we did not read');
    assert.ok(written < 64 * 1024 * 1024, `peer wrote ${written} bytes into a non-reading connection`);
    await r.cancel();
    a.destroy();
    server.close();
    await writer;
  });

  s('small reads are copied out of the read buffer, large ones handed on as views; the buffer adapts', async () => {
    const { server, client } = await pair();
    const a = connChannel(client, { readBufferSize: 64 * 1024 });
    const r = a.readable.getReader();
    await server.write(enc.encode('tiny'));
    const small = (await within(T, r.read(), 'small read')).value!;
    assert.is(dec.decode(small), 'tiny');
    assert.is(small.buffer.byteLength, 4, 'a 4-byte read must not pin the read buffer');
    const big = new Uint8Array(4 * 1024 * 1024).fill(7);
    const w = (async () => {
      for (let o = 0; o < big.byteLength; ) o += await server.write(big.subarray(o));
    })();
    let largest = 0;
    let got = 0;
    while (got < big.byteLength) {
      const c = (await within(T, r.read(), 'big read')).value!;
      if (c.byteLength * 2 >= 4096) {
        // Handed on: a view of a buffer it fills at least half of (no copy, little slack).
        assert.ok(c.byteLength * 2 >= c.buffer.byteLength, `${c.byteLength} of ${c.buffer.byteLength}`);
        largest = Math.max(largest, c.buffer.byteLength);
      }
      got += c.byteLength;
    }
    await w;
    assert.is(largest, 64 * 1024, 'the buffer grew to readBufferSize under bulk traffic');
    server.close();
    await r.cancel();
    a.destroy();
  });

  s('cancel keeps draining until the peer FIN, so the peer never sees a reset', async () => {
    const { server, client } = await pair();
    const a = connChannel(client, { lingerMs: 5_000 });
    await a.readable.cancel();
    const w = a.writable.getWriter();
    await w.write(enc.encode('last words'));
    await w.close();
    // The peer still sends (unread by us) and then reads our data to EOF without ECONNRESET.
    await server.write(new Uint8Array(200_000));
    const n = await within(T, rawDrain(server), 'peer reads to EOF');
    assert.is(n, 'last words'.length);
    await server.closeWrite();
    await within(T, a.closed, 'closed after the peer FIN');
    server.close();
  });

  s('linger is bounded when the peer never sends FIN', async () => {
    const { server, client } = await pair();
    const a = connChannel(client, { lingerMs: 100 });
    await a.readable.cancel();
    await a.writable.close();
    const t0 = Date.now();
    await within(T, a.closed, 'linger timeout');
    assert.ok(Date.now() - t0 < 2_000);
    server.close();
  });

  s('abort closes the connection at once and errors the readable', async () => {
    const { server, client } = await pair();
    const a = connChannel(client);
    const r = a.readable.getReader();
    await a.writable.abort(new Error('boom'));
    await within(T, a.closed, 'closed');
    await r.read().then(
      () => assert.unreachable('read should fail'),
      (e: Error) => assert.match(e.message, /boom/),
    );
    const peer = await within(T, rawDrain(server).catch(() => -1), 'peer sees EOF or reset');
    assert.ok(peer === 0 || peer === -1);
    server.close();
  });

  s.run();
} else {
  skipOutside('Deno', 'conn-channel.test.ts');
}
