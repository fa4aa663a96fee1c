/**
 * The hostile-peer attacks against the Deno and Bun adapters (issue 9, "where the runtime allows"): the server is
 * test/fixtures/runtime-server.mjs bundled for each runtime and run in it; the attackers are this Node process
 * over loopback. Server memory is read from /proc/<pid>/status (VmHWM, the peak RSS). A runtime whose binary is
 * missing (.tools/ not installed) fails with a message: npm test installs the runtimes before running any suite.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import zlib from 'node:zlib';
import { connect } from '@streamsocket/node';
import { RUNTIMES, start } from './_runtimes.js';
import { RawPeer, sleep, until, within, clientFrame, closePayload, upgradeRequest, cleanup, escaped, MiB } from './_net.js';

const TIMEOUT = 1500;
const CAP = 40;

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function vm(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

let bomb: Buffer | null = null;
async function theBomb(): Promise<Buffer> {
  if (bomb) return bomb;
  const d = zlib.createDeflateRaw({ level: 9, memLevel: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const z = Buffer.alloc(MiB);
  for (let i = 0; i < 1024; i++) d.write(z);
  await new Promise<void>((r) => d.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
  d.close();
  const b = Buffer.concat(out);
  return (bomb = b.subarray(0, b.length - 4));
}

for (const runtime of ['deno', 'bun'] as const) {
  const available = existsSync(RUNTIMES[runtime].bin);
  test(`${runtime}: slowloris, pending cap, oversize head, too many headers, impossible lengths, bomb, ping flood`, async () => {
    if (!available) {
      // A missing runtime is a failure, never a silent pass: npm test installs the runtimes before any suite.
      throw new Error(`${RUNTIMES[runtime].bin} missing (npm test installs the runtimes; or run packages/devtools/runtimes.mjs ensureTools())`);
    }
    const s = await start(runtime, { handshakeTimeout: TIMEOUT, maxPendingHandshakes: CAP, deflate: true });
    const lines: string[] = [];
    try {
      const port = s.port;
      const url = `ws://127.0.0.1:${port}/`;
      // Slowloris: 10 silent, 10 at a byte every 100 ms; a real client is served meanwhile.
      const head = upgradeRequest(port);
      // Timed from before the connects: the server cannot start a socket's handshake timer earlier than that, while
      // our own 'connect' events may reach this (busy) process a few hundred ms after the server accepted.
      const t0 = Date.now();
      const slow = Array.from({ length: 20 }, () => new RawPeer(port));
      await Promise.all(slow.map((p) => p.ready()));
      let i = 0;
      const drip = setInterval(() => {
        for (let k = 0; k < 10; k++) if (!slow[k]!.closed) slow[k]!.write(head[i % head.length]!);
        i++;
      }, 100);
      const ws = connect(url);
      const { readable, writable } = await within(ws.opened, 3000, 'client during slowloris');
      await writable.getWriter().write('hi');
      assert.is((await within(readable.getReader().read(), 3000, 'echo')).value, 'hi');
      ws.close();
      await until(() => slow.every((p) => p.closed), TIMEOUT + 3000, 'slow sockets closed');
      clearInterval(drip);
      const times = slow.map((p) => p.closedAt - t0);
      lines.push(`slowloris: 20 slow sockets closed ${Math.min(...times)}-${Math.max(...times)} ms after connect (handshakeTimeout ${TIMEOUT}); a client was served meanwhile`);
      assert.ok(Math.min(...times) >= TIMEOUT - 20 && Math.max(...times) <= TIMEOUT + 1500, JSON.stringify(times));
      // Pending cap: full of silent sockets, a real client still gets in and the oldest silent one goes.
      const idle: RawPeer[] = [];
      for (let k = 0; k < CAP; k++) {
        idle.push(new RawPeer(port));
        await idle.at(-1)!.ready();
      }
      await sleep(200);
      const t1 = Date.now();
      const late = connect(url);
      await within(late.opened, 3000, 'client at the cap');
      const servedIn = Date.now() - t1;
      late.close();
      await until(() => idle[0]!.closed, 3000, 'oldest dropped');
      const dropped = idle.filter((p) => p.closed).length;
      lines.push(`pending cap ${CAP} full of silent sockets: a new client opened in ${servedIn} ms; ${dropped} silent socket(s) dropped, the oldest first`);
      assert.ok(idle[0]!.closed && !idle[CAP - 1]!.closed);
      for (const p of idle) p.destroy();
      await sleep(300);
      // Oversize head and too many headers.
      const big = new RawPeer(port);
      await big.ready();
      const start16 = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ';
      big.write(start16 + 'a'.repeat(16 * 1024 + 1 - start16.length));
      const rb = await big.responseHead(3000);
      const many = new RawPeer(port);
      await many.ready();
      let h = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n';
      for (let k = 0; k < 100; k++) h += `X-${k}: y\r\n`;
      many.write(h + '\r\n');
      const rm = await many.responseHead(3000);
      lines.push(`oversize head (16,385 B unterminated): ${rb.status}; 101 header lines: ${rm.status}`);
      assert.is(rb.status, 431);
      assert.is(rm.status, 431);
      // Impossible lengths.
      for (const [hdr, code] of [[[0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4], 1009], [[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4], 1002]] as const) {
        const p = new RawPeer(port);
        await p.upgrade(port);
        const t = Date.now();
        p.write(new Uint8Array(hdr));
        await until(() => p.closeCode() !== null, 3000, 'close frame');
        await p.waitClosed(3000);
        lines.push(`${code === 1009 ? '1 GiB declared frame' : 'top-bit 64-bit length'}: close ${p.closeCode()} after ${Date.now() - t} ms, TCP closed`);
        assert.is(p.closeCode(), code);
      }
      // Decompression bomb: server peak RSS (VmHWM) growth.
      const b = await theBomb();
      const bp = new RawPeer(port);
      await bp.upgrade(port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
      const hwm0 = vm(s.proc.pid!, 'VmHWM');
      const rss0 = vm(s.proc.pid!, 'VmRSS');
      const wire = clientFrame(2, b, true, true);
      for (let o = 0; o < wire.length && !bp.socket.destroyed; o += 64 * 1024) {
        if (!bp.write(wire.subarray(o, o + 64 * 1024))) await Promise.race([new Promise((r) => bp.socket.once('drain', r)), sleep(2000)]);
      }
      await until(() => bp.closeCode() !== null, 15_000, 'bomb close frame');
      const hwm1 = vm(s.proc.pid!, 'VmHWM');
      const bombGrowth = (hwm1 - Math.max(hwm0, rss0)) / MiB;
      lines.push(`bomb (${wire.length} B -> 1 GiB): close ${bp.closeCode()}; server peak RSS ${(Math.max(hwm0, rss0) / MiB).toFixed(0)} -> ${(hwm1 / MiB).toFixed(0)} MiB (+${Math.max(0, bombGrowth).toFixed(1)} MiB, bound 96 MiB)`);
      assert.is(bp.closeCode(), 1009); // (without permessage-deflate negotiated, RSV1 would be 1002)
      assert.ok(bombGrowth < 96, `server RSS growth ${bombGrowth.toFixed(1)} MiB`);
      // Ping flood with a client that never reads.
      const pf = new RawPeer(port);
      await pf.upgrade(port);
      pf.socket.pause();
      const h0 = vm(s.proc.pid!, 'VmHWM');
      const batch = Buffer.concat(new Array(1000).fill(Buffer.from(clientFrame(9, 'p'))));
      let sent = 0;
      for (; sent < 200_000; sent += 1000) {
        if (!pf.write(batch)) {
          const drained = await Promise.race([new Promise<boolean>((r) => pf.socket.once('drain', () => r(true))), sleep(1500).then(() => false)]);
          if (!drained) break;
        }
      }
      await sleep(500);
      const pingGrowth = (vm(s.proc.pid!, 'VmHWM') - h0) / MiB;
      pf.socket.resume();
      pf.write(clientFrame(8, closePayload(1000)));
      await pf.waitClosed(10_000);
      lines.push(`ping flood (${sent} pings, client not reading): server peak RSS +${pingGrowth.toFixed(1)} MiB (bound 48 MiB); clean close ${pf.closeCode()}`);
      assert.ok(pingGrowth < 48);
      assert.is(pf.closeCode(), 1000);
    } finally {
      for (const l of lines) console.log(`[${runtime}] ${l}`);
      s.stop();
    }
  });
}

for (const runtime of ['deno', 'bun'] as const) {
  test(`${runtime}: a peer that never reads (sender stalls at a bound), peers vanishing mid-frame (1006), no fd leak`, async () => {
    if (!existsSync(RUNTIMES[runtime].bin)) {
      throw new Error(`${RUNTIMES[runtime].bin} missing (npm test installs the runtimes first)`);
    }
    const lines: string[] = [];
    const s = await start(runtime, { mode: 'send' });
    const e = await start(runtime, {});
    try {
      // Never reads: the handler's accepted bytes stop growing and bufferedAmount stays at its mark.
      const p = new RawPeer(s.port);
      await p.upgrade(s.port);
      p.socket.pause();
      const rss0 = vm(s.proc.pid!, 'VmRSS');
      await sleep(3000);
      const sent = s.out.filter((l) => l.startsWith('SENT ')).map((l) => l.split(' ').map(Number) as [number, number, number]);
      const last = sent.at(-1)!;
      const stalledMs = sent.filter((x) => x[1] === last[1]).length * 250; // how long the count has not moved
      const maxBuffered = Math.max(...sent.map((x) => x[2]));
      const growth = (vm(s.proc.pid!, 'VmHWM') - rss0) / MiB;
      lines.push(`never reads: handler's writes stalled at ${(last[1] / MiB).toFixed(2)} MiB for the last ~${stalledMs} ms; bufferedAmount max ${(maxBuffered / 1024).toFixed(0)} KiB; server peak RSS +${growth.toFixed(1)} MiB`);
      assert.ok(stalledMs >= 1000, 'the sender is held back');
      assert.ok(maxBuffered <= 64 * 1024 + 16 * 1024, `bufferedAmount ${maxBuffered}`);
      assert.ok(growth < 32);
      p.destroy();
      // Vanishing peers, server side: mid-frame and mid-message, by RST and by FIN.
      await sleep(300);
      const fd0 = fds(e.proc.pid!);
      let n = 0;
      for (const how of ['reset', 'half-close'] as const) {
        for (const bytes of [clientFrame(2, new Uint8Array(1000)).subarray(0, 500), clientFrame(1, 'first fragment', false)]) {
          const q = new RawPeer(e.port);
          await q.upgrade(e.port);
          q.write(bytes);
          await sleep(30);
          if (how === 'reset') q.socket.resetAndDestroy();
          else q.socket.end();
          n++;
          await until(() => e.out.filter((l) => l.startsWith('CLOSED')).length >= n, 4000, `${runtime} session ${n} ended`);
        }
      }
      const codes = e.out.filter((l) => l.startsWith('CLOSED')).map((l) => Number(l.split(' ')[1]));
      await until(() => fds(e.proc.pid!) <= fd0, 4000, 'fds back').catch(() => {});
      const fd1 = fds(e.proc.pid!);
      lines.push(`vanishing peers (RST and FIN, mid-frame and mid-message): server sessions ended ${codes.join(',')}; server fds ${fd0} -> ${fd1}`);
      assert.equal(codes, [1006, 1006, 1006, 1006]);
      assert.ok(fd1 <= fd0, `fds ${fd0} -> ${fd1}`);
    } finally {
      for (const l of lines) console.log(`[${runtime}] ${l}`);
      s.stop();
      e.stop();
    }
  });
}

test.after.each(cleanup);

test('nothing escaped', () => {
  assert.equal(escaped.map(String), []);
});

test.run();
