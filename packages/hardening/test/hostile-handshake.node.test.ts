/**
 * Hostile peers before the 101, over real loopback sockets against @streamsocket/node's serve() (issue 9):
 * slowloris (a byte at a time, or nothing), the pending-handshake cap, oversize heads and too many headers.
 * Short timeouts come through options; the defaults are asserted separately.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serve, connect, DEFAULT_MAX_PENDING_HANDSHAKES, type WebSocketStream } from '@streamsocket/node';
import { DEFAULTS, DEFAULT_ADMISSION } from '@streamsocket/session';
import { RawPeer, sleep, within, until, upgradeRequest, baseline, backTo, escaped, cleanup, tracked } from './_net.js';

async function echo(ws: WebSocketStream): Promise<void> {
  try {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable);
  } catch {
    /* ended */
  }
}

/** One real client round trip: connect, send, receive the echo, close. Returns the ms it took. */
async function roundTrip(port: number): Promise<number> {
  const t0 = Date.now();
  const ws = connect(`ws://127.0.0.1:${port}/`);
  const { readable, writable } = await within(ws.opened, 3000, 'opened');
  const w = writable.getWriter();
  await w.write('ping?');
  const r = readable.getReader();
  const m = await within(r.read(), 3000, 'echo');
  assert.is(m.value, 'ping?');
  ws.close();
  await within(ws.closed, 3000, 'closed');
  return Date.now() - t0;
}

test('defaults: handshake timeout 10 s, 4096 pending handshakes (1024 per address), 16 KiB head, 100 headers', () => {
  assert.is(DEFAULTS.handshakeTimeout, 10_000);
  assert.is(DEFAULT_MAX_PENDING_HANDSHAKES, 4096);
  assert.is(DEFAULT_ADMISSION.maxPendingHandshakesPerAddress, 1024);
  assert.is(DEFAULTS.maxHeadSize, 16 * 1024);
  assert.is(DEFAULTS.maxHeaderCount, 100);
  assert.is(DEFAULTS.maxMessageSize, 16 * 1024 * 1024);
  assert.is(DEFAULTS.maxFrameSize, 16 * 1024 * 1024);
});

test('slowloris: byte-a-tick heads and silent sockets are closed at the handshake timeout; others are served meanwhile', async () => {
  const base = baseline();
  const TIMEOUT = 1500;
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0, handshakeTimeout: TIMEOUT, maxPendingHandshakes: 64 }, (ws) => void echo(ws)));
  await server.ready;
  const port = server.port;
  const head = upgradeRequest(port);
  const dribblers: RawPeer[] = [];
  const silent: RawPeer[] = [];
  for (let i = 0; i < 20; i++) dribblers.push(new RawPeer(port));
  for (let i = 0; i < 20; i++) silent.push(new RawPeer(port));
  await Promise.all([...dribblers, ...silent].map((p) => p.ready()));
  const t0 = Date.now();
  // Half of them send a byte a second (the classic slowloris), half a byte every 100 ms: either way the head
  // would need 15-150 s.
  let i = 0;
  const drip = setInterval(() => {
    for (let k = 0; k < dribblers.length; k++) {
      const p = dribblers[k]!;
      if (!p.closed && (k % 2 === 0 || i % 10 === 0)) p.write(head[(k % 2 === 0 ? i : i / 10) % head.length]!);
    }
    i++;
  }, 100);
  // Others are served meanwhile.
  const rtts: number[] = [];
  while (Date.now() - t0 < TIMEOUT - 200) rtts.push(await roundTrip(port));
  await until(() => [...dribblers, ...silent].every((p) => p.closed), TIMEOUT + 2000, 'all slow sockets closed');
  clearInterval(drip);
  const closeTimes = [...dribblers, ...silent].map((p) => p.closedAt - t0);
  const latest = Math.max(...closeTimes);
  const earliest = Math.min(...closeTimes);
  console.log(`[slowloris] 20 dribbling (10 at 1 B/s, 10 at 10 B/s) + 20 silent sockets closed ${earliest}-${latest} ms after connect (timeout ${TIMEOUT} ms); ` +
    `${rtts.length} other clients served meanwhile, round trip max ${Math.max(...rtts)} ms`);
  assert.ok(earliest >= TIMEOUT - 100, `not closed before the timeout (${earliest} ms)`);
  assert.ok(latest <= TIMEOUT + 1000, `closed within timeout + 1 s (${latest} ms)`);
  assert.ok(rtts.length >= 2 && Math.max(...rtts) < 500, 'other clients were served promptly');
  for (const p of dribblers) assert.is(p.received.length === 0 || p.received.toString('latin1').startsWith('HTTP/1.1 408'), true, 'nothing but a possible 408');
  assert.is(server.pendingHandshakes, 0);
  await server.close();
  const after = await backTo(base);
  console.log(`[slowloris] fds ${base.fds} -> ${after.fds}, timers ${base.timers} -> ${after.timers}`);
  assert.ok(after.fds <= base.fds && after.timers <= base.timers, 'no fd or timer leak');
});

test('the pending-handshake cap holds and favours clients that complete: at the cap the oldest pending socket is dropped, new clients are served', async () => {
  const CAP = 30;
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0, handshakeTimeout: 5000, maxPendingHandshakes: CAP }, (ws) => void echo(ws)));
  await server.ready;
  const port = server.port;
  const idle: RawPeer[] = [];
  for (let i = 0; i < CAP; i++) {
    idle.push(new RawPeer(port));
    await idle.at(-1)!.ready(); // in order: idle[0] is the oldest
  }
  await until(() => server.pendingHandshakes === CAP, 2000, 'cap reached');
  // 10 real clients arrive at once while the room is full of silent sockets: each is served, and each arrival
  // while the room is full makes the oldest silent socket go, in arrival order.
  const rtts = await Promise.all(Array.from({ length: 10 }, () => roundTrip(port)));
  const evicted = server.stats.evicted;
  await until(() => idle.slice(0, evicted).every((p) => p.closed), 2000, 'the oldest dropped');
  const stillOpen = idle.filter((p) => !p.closed).length;
  console.log(`[cap] ${CAP} silent sockets pending; 10 clients arriving at once all served, round trips max ${Math.max(...rtts)} ms; the ${evicted} oldest silent sockets dropped, ${stillOpen} still pending; pending ${server.pendingHandshakes}`);
  assert.ok(Math.max(...rtts) < 1000, 'served promptly');
  assert.ok(evicted >= 1 && evicted <= 10, `${evicted} evicted`);
  assert.is(stillOpen, CAP - evicted, 'only the oldest were dropped');
  assert.ok(idle.slice(evicted).every((p) => !p.closed), 'the newer silent sockets are kept');
  assert.ok(server.pendingHandshakes <= CAP);
  for (const p of idle) assert.is(p.received.length, 0, 'a dropped socket gets no response, just the close');
  for (const p of idle) p.destroy();
  await server.close();
});

test('oversize head: 431 once the 16 KiB default is crossed, before the rest is buffered; too many headers: 431', async () => {
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0 }, (ws) => void echo(ws)));
  await server.ready;
  const port = server.port;
  // (a) An unterminated head of exactly 16 KiB + 1 byte: the answer must come without another byte being sent
  // (so nothing beyond the limit is needed, or buffered), and a client that keeps sending is cut off.
  const big = new RawPeer(port);
  await big.ready();
  const start = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: `;
  const t0 = Date.now();
  big.write(start + 'a'.repeat(16 * 1024 + 1 - start.length));
  const r = await big.responseHead(3000);
  const answeredIn = Date.now() - t0;
  let sent = 0;
  const chunk = 'a'.repeat(16 * 1024);
  while (sent < 4 * 1024 * 1024 && !big.closed && !big.socket.destroyed) {
    if (!big.write(chunk)) await Promise.race([new Promise((res) => big.socket.once('drain', res)), sleep(200)]);
    sent += chunk.length;
  }
  await big.waitClosed(3000);
  console.log(`[oversize head] 16385 bytes without CRLFCRLF answered ${r.status} in ${answeredIn} ms; connection closed after the client pushed ${sent} more bytes`);
  assert.is(r.status, 431);
  assert.ok(answeredIn < 1000);
  // (b) 101 short headers (limit 100).
  const many = new RawPeer(port);
  await many.ready();
  let h = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (let i = 0; i < 100; i++) h += `X-${i}: y\r\n`;
  many.write(h + '\r\n');
  const r2 = await many.responseHead(3000);
  console.log(`[too many headers] 101 header lines answered ${r2.status}`);
  assert.is(r2.status, 431);
  await many.waitClosed(3000);
  // (c) the same limits are options.
  await server.close();
  const tight = tracked(serve({ hostname: '127.0.0.1', port: 0, maxHeadSize: 512, maxHeaderCount: 8 }, (ws) => void echo(ws)));
  await tight.ready;
  const p = new RawPeer(tight.port);
  await p.ready();
  p.write(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(600)}`);
  assert.is((await p.responseHead(3000)).status, 431);
  const q = new RawPeer(tight.port);
  await q.ready();
  q.write(upgradeRequest(tight.port, 'A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n')); // 9 headers > 8
  assert.is((await q.responseHead(3000)).status, 431);
  await tight.close();
});

test.after.each(cleanup);

test('nothing escaped', () => {
  assert.equal(escaped.map(String), []);
});

test.run();
