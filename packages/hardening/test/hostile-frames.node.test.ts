/**
 * Hostile peers after the 101, over real loopback sockets against @streamsocket/node's serve() (issue 9):
 * impossible frame lengths refused at the header, and floods (pings whose pongs cannot be written, empty frames,
 * one-byte fragments, close frames after close) with memory measured.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serve, type WebSocketStream } from '@streamsocket/node';
import { RawPeer, sleep, until, within, clientFrame, closePayload, cleanup, tracked, escaped, rss, gc, MiB, rssSampler, countingServer } from './_net.js';

for (const [name, header, code] of [
  ['a 1 GiB declared frame', [0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4], 1009],
  ['a 64-bit length with the top bit set', [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4], 1002],
  ['a 2^53 + 1 length (beyond exact JS numbers)', [0x82, 0xff, 0, 0x20, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], 1009],
] as const) {
  test(`${name}: refused with ${code} from the header alone, connection closed at once`, async () => {
    const { port, seen } = await countingServer();
    const p = new RawPeer(port);
    await p.upgrade(port);
    const before = rss();
    const t0 = Date.now();
    p.write(new Uint8Array(header)); // the header only: no payload byte follows
    await until(() => p.closeCode() !== null, 2000, 'close frame');
    const answered = Date.now() - t0;
    await p.waitClosed(3000);
    const closedIn = Date.now() - t0;
    console.log(`[frame length] ${name}: close ${p.closeCode()} after ${answered} ms, TCP closed after ${closedIn} ms, RSS +${((rss() - before) / MiB).toFixed(1)} MiB`);
    assert.is(p.closeCode(), code);
    assert.ok(closedIn < 1500, 'TCP closed promptly (no waiting for a close reply from a peer that violated the protocol)');
    const c = (await within(seen[0]!.closed, 3000, 'server closed')) as { closeCode?: number };
    assert.is(c.closeCode, 1006, 'the server session reports an abnormal end (it failed the connection)');
  });
}

test('ping flood while the client never reads: pongs do not queue, the socket stops being read, memory flat', async () => {
  const { port, seen } = await countingServer();
  const p = new RawPeer(port);
  await p.upgrade(port);
  p.socket.pause(); // never read: every pong the server writes stays in its buffers
  gc();
  const before = rss();
  const sampler = rssSampler();
  const PINGS = 500_000;
  const batch = Buffer.concat(new Array(1000).fill(Buffer.from(clientFrame(9, 'p'))));
  let sent = 0;
  let stalled = false;
  while (sent < PINGS) {
    const ok = p.write(batch);
    sent += 1000;
    if (!ok) {
      const drained = await Promise.race([new Promise<boolean>((r) => p.socket.once('drain', () => r(true))), sleep(1500).then(() => false)]);
      if (!drained) {
        stalled = true;
        break;
      }
    }
  }
  await sleep(300);
  const peak = sampler.stop();
  const growth = (peak - before) / MiB;
  console.log(`[ping flood] client wrote ${sent} pings (${(sent * 7 / MiB).toFixed(1)} MiB) before ${stalled ? 'the server stopped reading' : 'finishing'}; ` +
    `peak RSS growth ${growth.toFixed(1)} MiB (bound 48 MiB)`);
  assert.ok(growth < 48, `RSS growth ${growth.toFixed(1)} MiB`);
  // Read again: the connection is still alive and answers a clean close.
  p.received = Buffer.alloc(0);
  p.keep = 64 * 1024;
  p.socket.resume();
  p.write(clientFrame(8, closePayload(1000, 'bye')));
  await p.waitClosed(10_000);
  const pongs = Math.round(p.receivedTotal / 3);
  console.log(`[ping flood] after resuming: ~${pongs} pong frames received for ${sent} pings`);
  const c = (await within(seen[0]!.closed, 3000, 'server closed')) as { closeCode?: number };
  assert.is(c.closeCode, 1000);
});

test('flood of 300 000 empty frames: every one delivered, memory flat', async () => {
  const { port, seen } = await countingServer();
  const p = new RawPeer(port);
  await p.upgrade(port);
  gc();
  const before = rss();
  const sampler = rssSampler();
  const N = 300_000;
  const batch = Buffer.concat(new Array(1000).fill(Buffer.from(clientFrame(2))));
  for (let i = 0; i < N; i += 1000) if (!p.write(batch)) await new Promise((r) => p.socket.once('drain', r));
  await until(() => seen[0]!.messages === N, 20_000, 'all empty messages read');
  const growth = (sampler.stop() - before) / MiB;
  console.log(`[empty flood] ${N} empty binary frames all delivered; peak RSS growth ${growth.toFixed(1)} MiB (bound 48 MiB)`);
  assert.ok(growth < 48);
  p.write(clientFrame(8, closePayload(1000)));
  await p.waitClosed(5000);
});

test('one message in 200 000 one-byte fragments: delivered whole, memory bounded', async () => {
  let got: Uint8Array | null = null;
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0 }, async (ws: WebSocketStream) => {
    const { readable } = await ws.opened;
    const r = readable.getReader();
    const m = await r.read();
    if (!m.done && typeof m.value !== 'string') got = m.value;
    ws.close();
  }));
  await server.ready;
  const port = server.port;
  const p = new RawPeer(port);
  await p.upgrade(port);
  const N = 200_000;
  // Built in place (7 bytes per frame), so the test's own garbage does not blur the measurement.
  const all = Buffer.alloc(N * 7);
  for (let i = 0; i < N; i++) all.set(clientFrame(i === 0 ? 2 : 0, new Uint8Array([i & 0xff]), i === N - 1), i * 7);
  gc();
  const before = rss();
  const sampler = rssSampler();
  for (let o = 0; o < all.length; o += 64 * 1024) if (!p.write(all.subarray(o, o + 64 * 1024))) await new Promise((r) => p.socket.once('drain', r));
  await until(() => got !== null, 20_000, 'message assembled');
  const growth = (sampler.stop() - before) / MiB;
  const g = got as unknown as Uint8Array;
  let ok = g.length === N;
  for (let i = 0; ok && i < N; i++) ok = g[i] === (i & 0xff);
  console.log(`[fragment flood] ${N} one-byte fragments (${(all.length / MiB).toFixed(1)} MiB on the wire) -> one ${g.length} B message; peak RSS growth ${growth.toFixed(1)} MiB (bound 16 MiB)`);
  assert.ok(ok, 'content intact');
  assert.ok(growth < 16);
  await p.waitClosed(5000);
});

test('close frames after close: answered once, everything after ignored, TCP closed', async () => {
  const { port, seen } = await countingServer();
  const p = new RawPeer(port);
  await p.upgrade(port);
  const closeFrame = Buffer.from(clientFrame(8, closePayload(1000, 'first')));
  const flood = Buffer.concat(new Array(1000).fill(Buffer.from(clientFrame(8, closePayload(4000, 'again')))));
  p.write(closeFrame);
  let extra = 0;
  for (let i = 0; i < 100 && !p.socket.destroyed; i++) {
    p.write(flood);
    extra += 1000;
  }
  await p.waitClosed(5000);
  const closes = p.frames().filter((f) => f.opcode === 8);
  console.log(`[close flood] 1 close + up to ${extra} more close frames: ${closes.length} close frame answered (code ${p.closeCode()}), TCP closed`);
  assert.is(closes.length, 1);
  assert.is(p.closeCode(), 1000);
  const c = (await within(seen[0]!.closed, 3000, 'server closed')) as { closeCode?: number; reason?: string };
  assert.equal([c.closeCode, c.reason], [1000, 'first']);
});

test.after.each(cleanup);

test('nothing escaped', () => {
  assert.equal(escaped.map(String), []);
});

test.run();
