/**
 * Decompression bombs against @streamsocket/node's serve() with permessage-deflate (issue 9): ~1 MiB on the wire
 * that inflates to 1 GiB, as one frame and as one message spread over a thousand small frames (context
 * takeover), refused with 1009 while RSS stays bounded; and 1 GiB spread over many messages that are each under
 * the limit, read by a slow application: the socket stops being read and RSS stays bounded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import zlib from 'node:zlib';
import { DEFAULTS } from '@streamsocket/session';
import { RawPeer, sleep, until, within, clientFrame, cleanup, tracked, escaped, rss, gc, MiB, rssSampler, countingServer } from './_net.js';

const GiB = 1024 * MiB;

/** Raw DEFLATE of `total` zero bytes in one sync-flushed message (trailer removed), optionally per message. */
async function zeros(total: number, level: number, messageSize = total): Promise<Buffer[]> {
  const d = zlib.createDeflateRaw({ level, memLevel: 9 });
  const z = Buffer.alloc(Math.min(MiB, messageSize));
  const msgs: Buffer[] = [];
  let out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  for (let done = 0; done < total; done += messageSize) {
    for (let i = 0; i < messageSize; i += z.length) d.write(z);
    await new Promise<void>((r) => d.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    const b = Buffer.concat(out);
    out = [];
    msgs.push(b.subarray(0, b.length - 4)); // RFC 7692 7.2.1: drop 00 00 ff ff
  }
  d.close();
  return msgs;
}

let bomb: Buffer;
test.before(async () => {
  const t0 = Date.now();
  [bomb] = (await zeros(GiB, 9)) as [Buffer];
  console.log(`[bomb] 1 GiB of zeros deflates to ${bomb.length} bytes (${(GiB / bomb.length).toFixed(0)}:1), built in ${Date.now() - t0} ms`);
});

/** The counting server with permessage-deflate on. */
const deflateServer = (opts: Record<string, unknown> = {}, readDelayMs = 0) => countingServer({ deflate: true, ...opts }, readDelayMs);

async function deflatePeer(port: number): Promise<RawPeer> {
  const p = new RawPeer(port);
  await p.upgrade(port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
  return p;
}

async function sendAll(p: RawPeer, bytes: Uint8Array): Promise<void> {
  for (let o = 0; o < bytes.length && !p.socket.destroyed; o += 64 * 1024) {
    if (!p.write(bytes.subarray(o, o + 64 * 1024))) {
      await Promise.race([new Promise((r) => p.socket.once('drain', r)), sleep(3000)]);
    }
  }
}

/** Sends `wire`, waits for the server's close frame and then the TCP close: how long it took, and the peak RSS growth (MiB). */
async function sendMeasured(p: RawPeer, wire: Uint8Array): Promise<{ ms: number; growth: number }> {
  gc();
  const before = rss();
  const sampler = rssSampler(5);
  const t0 = Date.now();
  await sendAll(p, wire);
  await until(() => p.closeCode() !== null, 10_000, 'close frame');
  const ms = Date.now() - t0;
  await p.waitClosed(5000);
  return { ms, growth: (sampler.stop() - before) / MiB };
}

const BOUND_MIB = 64; // maxMessageSize (16 MiB default) + zlib state + slack

test('a ~1 MiB frame inflating to 1 GiB: 1009, RSS bounded', async () => {
  assert.is(DEFAULTS.maxMessageSize, 16 * MiB);
  const { port, seen } = await deflateServer();
  const p = await deflatePeer(port);
  const wire = clientFrame(2, bomb, true, true);
  const { ms, growth } = await sendMeasured(p, wire);
  console.log(`[bomb frame] ${wire.length} B frame (1 GiB inflated): close ${p.closeCode()} after ${ms} ms; peak RSS growth ${growth.toFixed(1)} MiB (bound ${BOUND_MIB} MiB)`);
  assert.is(p.closeCode(), 1009);
  assert.ok(growth < BOUND_MIB, `RSS growth ${growth.toFixed(1)} MiB`);
  const c = (await within(seen[0]!.closed, 3000, 'server closed')) as { closeCode?: number };
  assert.is(c.closeCode, 1006);
});

test('the same bomb as one message over 1000 small frames with context takeover: 1009, RSS bounded', async () => {
  const { port } = await deflateServer();
  const p = await deflatePeer(port);
  // Prime the shared window with a normal compressed message first (context takeover in use).
  const [prime] = await zeros(4096, 6);
  p.write(clientFrame(2, prime!, true, true));
  const n = 1000;
  const step = Math.ceil(bomb.length / n);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) frames.push(clientFrame(i === 0 ? 2 : 0, bomb.subarray(i * step, (i + 1) * step), i === n - 1, i === 0));
  const wire = Buffer.concat(frames);
  const { ms, growth } = await sendMeasured(p, wire);
  console.log(`[bomb fragments] ${n} frames of ~${step} B (1 GiB inflated, takeover): close ${p.closeCode()} after ${ms} ms; peak RSS growth ${growth.toFixed(1)} MiB (bound ${BOUND_MIB} MiB)`);
  assert.is(p.closeCode(), 1009);
  assert.ok(growth < BOUND_MIB);
});

test('1 GiB spread over 128 messages of 8 MiB (each under the limit), slow reader: socket paused, RSS bounded, all delivered', async () => {
  const COUNT = 128;
  const SIZE = 8 * MiB;
  const msgs = await zeros(COUNT * SIZE, 1, SIZE);
  const { port, seen } = await deflateServer({}, 5);
  const p = await deflatePeer(port);
  const wire = Buffer.concat(msgs.map((m) => clientFrame(2, m, true, true)));
  gc();
  const before = rss();
  const sampler = rssSampler(5);
  const t0 = Date.now();
  await sendAll(p, wire);
  // The app reads one message per 5 ms + inflate time; the server must never hold more than a few messages.
  await until(() => seen[0]!.messages === COUNT, 60_000, 'all messages read');
  const ms = Date.now() - t0;
  const growth = (sampler.stop() - before) / MiB;
  // Live set: one message queued for the app (read high-water mark 64 KiB < 8 MiB), one being inflated, its
  // concatenation: ~3 x 8 MiB; the rest of the bound is garbage the GC has not returned yet. Without read
  // backpressure the whole 1 GiB would be inflated and queued.
  const SPREAD_BOUND_MIB = 128;
  console.log(`[bomb spread] ${COUNT} x ${SIZE / MiB} MiB inflated from ${(wire.length / 1024).toFixed(0)} KiB, slow reader: all ${seen[0]!.messages} delivered (${(seen[0]!.bytes / GiB).toFixed(2)} GiB) in ${ms} ms; peak RSS growth ${growth.toFixed(1)} MiB (bound ${SPREAD_BOUND_MIB} MiB)`);
  assert.is(seen[0]!.bytes, COUNT * SIZE);
  assert.ok(growth < SPREAD_BOUND_MIB);
  p.write(clientFrame(8, new Uint8Array([3, 232])));
  await p.waitClosed(5000);
});

test.after.each(cleanup);

test('nothing escaped', () => {
  assert.equal(escaped.map(String), []);
});

test.run();
