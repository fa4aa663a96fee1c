/**
 * Backpressure against hostile peers, over loopback with @streamsocket/node (issue 9):
 * - a peer that never reads while the server sends: the bytes held by the server process stop at a stated bound
 *   (`writer.ready` waits; `bufferedAmount` reported), the application's writes stall, RSS stays flat;
 * - a peer that floods while the server's application reads slowly: the socket stops being read (the flooder's
 *   writes stall), bytes read but not consumed stay under a bound, RSS stays flat.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type net from 'node:net';
import { serve, type WebSocketStream } from '@streamsocket/node';
import { DEFAULTS } from '@streamsocket/session';
import { RawPeer, sleep, until, clientFrame, closePayload, cleanup, tracked, escaped, rss, gc, MiB, rssSampler } from './_net.js';

const KiB = 1024;

test('defaults: 64 KiB write and read high-water marks', () => {
  assert.is(DEFAULTS.writeHighWaterMark, 64 * KiB);
  assert.is(DEFAULTS.readHighWaterMark, 64 * KiB);
});

test('a peer that never reads: server-side buffered bytes stop at a bound, writes stall, memory flat', async () => {
  const MSG = 16 * KiB;
  let accepted = 0;
  let maxHeld = 0;
  let maxBuffered = 0;
  let stalledFor = 0;
  let sock: net.Socket | undefined;
  let wsRef: WebSocketStream | undefined;
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0 }, async (ws: WebSocketStream, info) => {
    sock = info.socket;
    wsRef = ws;
    const { writable } = await ws.opened;
    const w = writable.getWriter();
    const payload = new Uint8Array(MSG);
    try {
      for (;;) {
        await w.ready;
        void w.write(payload).catch(() => {});
        accepted += MSG;
      }
    } catch {
      /* closed */
    }
  }));
  await server.ready;
  const port = server.port;
  const p = new RawPeer(port);
  await p.upgrade(port);
  p.socket.pause(); // never read again
  gc();
  const before = rss();
  const sampler = rssSampler();
  // Watch for 3 s: held = bytes Node has not yet handed to the kernel + our queue.
  let last = -1;
  let lastChange = Date.now();
  const t0 = Date.now();
  while (Date.now() - t0 < 3000) {
    await sleep(20);
    if (!sock || !wsRef) continue;
    const held = sock.writableLength + wsRef.bufferedAmount;
    maxHeld = Math.max(maxHeld, held);
    maxBuffered = Math.max(maxBuffered, wsRef.bufferedAmount);
    if (accepted !== last) {
      last = accepted;
      lastChange = Date.now();
    }
  }
  stalledFor = Date.now() - lastChange;
  const growth = (sampler.stop() - before) / MiB;
  const kernel = (sock?.bytesWritten ?? 0) - (sock?.writableLength ?? 0);
  console.log(`[never reads] app wrote ${(accepted / MiB).toFixed(2)} MiB then writer.ready stayed pending for ${stalledFor} ms; ` +
    `held in-process max ${(maxHeld / KiB).toFixed(0)} KiB (socket writableLength + bufferedAmount; bufferedAmount max ${(maxBuffered / KiB).toFixed(0)} KiB; bound 256 KiB); ` +
    `~${(kernel / MiB).toFixed(2)} MiB sit in kernel socket buffers; RSS growth ${growth.toFixed(1)} MiB`);
  assert.ok(stalledFor >= 1000, 'the application was held back');
  assert.ok(maxHeld <= 256 * KiB, `held ${maxHeld} bytes`);
  assert.ok(growth < 32);
  p.destroy();
});

test('a peer that floods while the app reads slowly: the socket stops being read, memory flat', async () => {
  const FRAME = 64 * KiB;
  let consumed = 0;
  let sock: net.Socket | undefined;
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0 }, async (ws: WebSocketStream, info) => {
    sock = info.socket;
    const { readable } = await ws.opened;
    const r = readable.getReader();
    try {
      for (;;) {
        const m = await r.read();
        if (m.done) return;
        consumed += typeof m.value === 'string' ? m.value.length : m.value.byteLength;
        await sleep(100); // ~640 KiB/s
      }
    } catch {
      /* closed */
    }
  }));
  await server.ready;
  const port = server.port;
  const p = new RawPeer(port);
  await p.upgrade(port);
  const frame = Buffer.from(clientFrame(2, new Uint8Array(FRAME)));
  gc();
  const before = rss();
  const sampler = rssSampler();
  let sent = 0;
  let maxUnconsumed = 0;
  let stalls = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < 3000) {
    if (!p.write(frame)) {
      const drained = await Promise.race([new Promise<boolean>((r) => p.socket.once('drain', () => r(true))), sleep(400).then(() => false)]);
      if (!drained) stalls++;
    }
    sent += frame.length;
    if (sock) maxUnconsumed = Math.max(maxUnconsumed, sock.bytesRead - consumed);
  }
  const growth = (sampler.stop() - before) / MiB;
  const read = sock?.bytesRead ?? 0;
  console.log(`[flood, slow app] client pushed ${(sent / MiB).toFixed(1)} MiB in 3 s (${stalls} stalls of 400 ms); server read ${(read / MiB).toFixed(2)} MiB from the kernel, app consumed ${(consumed / MiB).toFixed(2)} MiB; ` +
    `read-but-unconsumed max ${(maxUnconsumed / KiB).toFixed(0)} KiB (bound 512 KiB); RSS growth ${growth.toFixed(1)} MiB`);
  assert.ok(stalls > 0, 'the flooder was stalled');
  assert.ok(maxUnconsumed <= 512 * KiB, `${maxUnconsumed} bytes read but not consumed`);
  assert.ok(growth < 32);
  p.write(clientFrame(8, closePayload(1000)));
  p.destroy();
});

test.after.each(cleanup);

test('nothing escaped', () => {
  assert.equal(escaped.map(String), []);
});

test.run();
