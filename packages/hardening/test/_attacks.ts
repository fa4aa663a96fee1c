/**
 * The two attacks of issue 15 against a server process in one runtime (the attack-<runtime>.node.test.ts files
 * each call `attackSuite(runtime)`):
 *
 * - **slowloris**: first 500 silent sockets from each of 127.0.0.3-6 (the server's RSS is read with those 2,000
 *   pending: the memory a pending handshake costs), then 5,000 from 127.0.0.2, half silent and half sending their
 *   head a byte a second; every socket the server drops is reopened 10 s later (the attacker of the issue,
 *   "reopens ... every 10 seconds"; STREAMSOCKET_ATTACK_REOPEN_MS changes it), for as long as the attack lasts.
 *   The attacker runs at a lower CPU priority than the server (a real one is on other machines). Meanwhile 100 well-behaved clients, from 127.0.0.1
 *   and from the attacking addresses alike, connect, upgrade, echo one message and close: each must be served
 *   (its echo back) within 1 s, measured in a process of their own. After the attack: no pending handshake, no session, descriptors, the session's
 *   timer entries and RSS back to where they were.
 * - **reconnect storm**: 5,000 clients over 127.0.0.2-6, each connecting, echoing one message and closing as fast
 *   as it can, for 30 s (STREAMSOCKET_STORM_SECONDS); then RSS back within the soak's bound.
 *
 * The server runs `serve()` with its defaults (maxPendingHandshakes 4096, 1024 per address, handshakeTimeout 10 s).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import {
  ROLE, MiB, root, settleMemory, config, goodClient, heard, HEAD, masked, percentile, runtimeAvailable, selfSigned, serverEnv, sleep, spawnRole, startServer, tell, until,
  type Runtime, type Served, type ServerProc,
} from './_attack.js';
import { STRICT } from './_known.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const GOOD_LIMIT_MS = 1000;
/** RSS after all closed: within max(20 MiB, 10 %) of the idle RSS, the soak's bound (soak.node.test.ts). */
const rssTolerance = (baseline: number): number => Math.max(20 * MiB, baseline * 0.1);

interface SlowlorisConfig {
  port: number;
  /** wss: the well-behaved clients speak TLS. */
  secure?: boolean;
  measure: Array<{ address: string; count: number }>;
  flood: Array<{ address: string; count: number }>;
  good: { count: number; spacingMs: number; addresses: string[] };
  reopenMs: number;
  /** Bytes every attack socket sends once connected (then nothing, or its drip). */
  prefix?: string;
}

interface StormConfig {
  port: number;
  clients: number;
  seconds: number;
  addresses: string[];
}

// ---- attacker processes ---------------------------------------------------------------------------------------

async function slowlorisAttacker(): Promise<void> {
  const c = config<SlowlorisConfig>();
  const head = Buffer.from(HEAD(c.port));
  let running = true;
  const stats = { opened: 0, connected: 0, dropped: 0, errors: 0 };
  const drippers = new Set<{ s: net.Socket; pos: number }>();
  const all = new Set<net.Socket>();
  const open = (address: string, drip: boolean): void => {
    const s = net.connect({ port: c.port, host: '127.0.0.1', localAddress: address });
    stats.opened++;
    all.add(s);
    const d = { s, pos: 0 };
    s.on('connect', () => {
      stats.connected++;
      if (c.prefix) s.write(c.prefix);
      if (drip) drippers.add(d);
    });
    s.on('error', () => stats.errors++);
    s.on('data', () => {});
    s.on('close', () => {
      all.delete(s);
      drippers.delete(d);
      if (!running) return;
      stats.dropped++;
      if (c.reopenMs >= 0) reopenQueue.push({ at: Date.now() + c.reopenMs, address, drip });
    });
  };
  // Dropped sockets are reopened `reopenMs` after their drop, at the rate the attack opened them (200 per 20 ms),
  // as a tool that re-creates its sockets in a loop does.
  const reopenQueue: Array<{ at: number; address: string; drip: boolean }> = [];
  const reopener = setInterval(() => {
    const now = Date.now();
    for (let n = 0; n < 200 && reopenQueue.length > 0 && reopenQueue[0]!.at <= now && running; n++) {
      const r = reopenQueue.shift()!;
      open(r.address, r.drip);
    }
  }, 20);
  const openGroup = async (groups: SlowlorisConfig['measure'], dripShare: number): Promise<void> => {
    for (const g of groups) {
      for (let i = 0; i < g.count; i++) {
        open(g.address, i < g.count * dripShare);
        if (i % 200 === 199) await sleep(20);
      }
    }
  };
  // A byte a second on every dripping socket: the head would take ~160 s.
  const drip = setInterval(() => {
    for (const d of drippers) if (d.pos < head.length - 1) d.s.write(head.subarray(d.pos, ++d.pos));
  }, 1000);
  const measureCount = c.measure.reduce((a, g) => a + g.count, 0);
  await openGroup(c.measure, 0);
  await until(() => stats.connected >= measureCount, 30_000, 'measure group connected').catch(() => {});
  tell({ type: 'measured', ...stats });
  await heard('go');
  const floodCount = c.flood.reduce((a, g) => a + g.count, 0);
  const t0 = Date.now();
  await openGroup(c.flood, 0.5);
  await until(() => stats.connected >= measureCount + floodCount, 30_000, 'flood connected').catch(() => {});
  tell({ type: 'flooded', ms: Date.now() - t0, ...stats });
  tell({ type: 'holding', ...stats, live: all.size });
  await heard('stop');
  running = false;
  clearInterval(drip);
  clearInterval(reopener);
  for (const s of all) s.destroy();
  await until(() => all.size === 0, 10_000, 'attack sockets closed').catch(() => {});
  tell({ type: 'stopped', ...stats });
}

/** The well-behaved clients, in a process of their own (the attacker's busy event loop must not delay them). */
async function goodClients(): Promise<void> {
  const c = config<SlowlorisConfig>();
  const results: Array<Promise<Served & { address: string }>> = [];
  for (let i = 0; i < c.good.count; i++) {
    const address = c.good.addresses[i % c.good.addresses.length]!;
    results.push(goodClient(c.port, address, i, 5000, c.secure === true).then((r) => ({ ...r, address })));
    await sleep(c.good.spacingMs);
  }
  tell({ type: 'served', results: await Promise.all(results) });
}

async function stormClients(): Promise<void> {
  const c = config<StormConfig>();
  const head = Buffer.from(HEAD(c.port));
  const msg = Buffer.from('storm');
  const echoFrame = masked(1, msg);
  const closeFrame = masked(8, Buffer.from([0x03, 0xe8]));
  const end = Date.now() + c.seconds * 1000;
  const t = { completed: 0, failed: 0, refused: 0, errors: {} as Record<string, number> };
  const lat: number[] = [];
  const once = (address: string): Promise<void> => new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ port: c.port, host: '127.0.0.1', localAddress: address });
    let buf: Buffer = Buffer.alloc(0);
    let stage = 0; // 0 head sent, 1 upgraded, 2 echoed
    let done = false;
    const fin = (ok: boolean, why = ''): void => {
      if (done) return;
      done = true;
      if (ok) {
        t.completed++;
        if (lat.length < 200_000) lat.push(performance.now() - t0);
      } else {
        t.failed++;
        t.errors[why] = (t.errors[why] ?? 0) + 1;
      }
      s.destroy();
      resolve();
    };
    s.setNoDelay(true);
    s.on('connect', () => s.write(head));
    s.on('error', (e: NodeJS.ErrnoException) => fin(false, `${e.code ?? e.message} at stage ${stage}`));
    s.on('close', () => fin(stage >= 2, `closed at stage ${stage}`));
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      if (stage === 0) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        if (buf.subarray(0, 12).toString('latin1') !== 'HTTP/1.1 101') {
          t.refused++;
          return fin(false, buf.subarray(0, 12).toString('latin1'));
        }
        stage = 1;
        buf = buf.subarray(i + 4);
        s.write(echoFrame);
      }
      while (buf.length >= 2) {
        const n = buf[1]! & 127;
        if (buf.length < 2 + n) return;
        const op = buf[0]! & 15;
        buf = buf.subarray(2 + n);
        if (op === 1 && stage === 1) {
          stage = 2;
          s.write(closeFrame);
        } else if (op === 8) {
          s.end();
          return fin(stage >= 2, 'close before echo');
        }
      }
    });
  });
  const loop = async (i: number): Promise<void> => {
    const address = c.addresses[i % c.addresses.length]!;
    while (Date.now() < end) await once(address);
  };
  const loops: Array<Promise<void>> = [];
  for (let i = 0; i < c.clients; i++) {
    loops.push(loop(i));
    if (i % 250 === 249) await sleep(10);
  }
  await Promise.all(loops);
  tell({ type: 'storm', ...t, p50: percentile(lat, 50), p99: percentile(lat, 99), max: percentile(lat, 100) });
}

// ---- the tests (parent) ---------------------------------------------------------------------------------------

interface Idle { rss: number; fds: number; timers: number; heap: number; heapTotal: number }

async function idle(server: ServerProc): Promise<Idle> {
  const s = await server.gc();
  await sleep(300);
  return { rss: server.rss(), fds: server.fds(), timers: s.timers, heap: s.heapUsed, heapTotal: s.heapTotal };
}

/**
 * After an attack: nothing pending or open, then the memory given time to come back (settleMemory). The
 * descriptors get up to 5 s to come back to `base`: a peer's FIN reaches the server some time after the attacker
 * process reported it closed, and Bun closes sockets the adapter never saw (stalled TLS) in its own native layer.
 */
async function settled(server: ServerProc, ms: number, base: Idle): Promise<Idle & { settleMs: number }> {
  await until(() => server.stats().pending === 0 && server.stats().connections === 0, ms, 'server drained');
  await until(() => server.fds() <= base.fds, 5000, 'fds back').catch(() => {});
  const m = await settleMemory(server, () => server.rss(), base.rss, rssTolerance(base.rss));
  return { rss: m.value, fds: server.fds(), timers: m.stats.timers, heap: m.stats.heapUsed, heapTotal: m.stats.heapTotal, settleMs: m.ms };
}

const mib = (n: number): string => (n / MiB).toFixed(1);

/**
 * An assertion that the servers of the runtimes in `knownIn` do not meet yet (docs/reliability.md, "Findings"):
 * elsewhere a plain assertion; there a failure is printed as an open known bug (the repo never commits a failing
 * state) and fails under STREAMSOCKET_KNOWN_BUGS=strict, like test/known-bugs.test.ts.
 */
function expectUnless(knownIn: readonly Runtime[], runtime: Runtime, lines: string[], name: string, check: () => void): void {
  if (!knownIn.includes(runtime)) return check();
  try {
    check();
  } catch (e) {
    if (STRICT) throw e;
    lines.push(`[known bug] OPEN: ${name}: ${(e as Error).message}`);
  }
}

export function attackSuite(runtime: Runtime): void {
  if (ROLE === 'slowloris') return void slowlorisAttacker().then(() => process.exit(0));
  if (ROLE === 'storm') return void stormClients().then(() => process.exit(0));
  if (ROLE === 'good') return void goodClients().then(() => process.exit(0));

  test(`${runtime}: slowloris from 5 addresses (5,000 + 4 x 500 sockets, silent and a byte a second) while 100 clients are each served within 1 s; fds, timers, RSS back`, async () => {
    if (!runtimeAvailable(runtime)) throw new Error(`${runtime} missing from .tools (npm test installs the runtimes first)`);
    const server = await startServer(runtime, {}, serverEnv(runtime));
    await sleep(300);
    const base = await idle(server);
    const cfg: SlowlorisConfig = {
      port: server.port,
      measure: ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].map((address) => ({ address, count: 500 })),
      flood: [{ address: '127.0.0.2', count: 5000 }],
      good: { count: 100, spacingMs: 80, addresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.7'] },
      reopenMs: Number(process.env.STREAMSOCKET_ATTACK_REOPEN_MS ?? 10_000),
    };
    const attacker = spawnRole('slowloris', cfg, 10);
    let good: ReturnType<typeof spawnRole> | null = null;
    const lines: string[] = [];
    try {
      const m = await attacker.next('measured', 60_000);
      await until(() => server.stats().pending >= 1990, 15_000, '2,000 pending').catch(() => {});
      await sleep(500);
      const pendingNow = server.stats().pending;
      const rssPending = server.rss();
      const perHead = (rssPending - base.rss) / Math.max(1, pendingNow);
      lines.push(`idle server: RSS ${mib(base.rss)} MiB, ${base.fds} fds, ${base.timers} timer entries`);
      lines.push(`2,000 silent sockets (500 from each of 127.0.0.3-6): ${pendingNow} pending, RSS ${mib(rssPending)} MiB: ${(perHead / 1024).toFixed(1)} KiB per pending handshake (attacker: ${JSON.stringify(m)})`);
      attacker.send('go');
      const f = await attacker.next('flooded', 90_000);
      const atFlood = server.stats();
      lines.push(`+5,000 from 127.0.0.2 in ${f.ms} ms; server: ${atFlood.pending} pending, evicted ${atFlood.evicted} + ${atFlood.evictedPerAddress} per address, RSS ${mib(server.rss())} MiB`);
      let maxPending = 0;
      const watch = setInterval(() => (maxPending = Math.max(maxPending, server.stats().pending)), 100);
      const cpu0 = server.cpu();
      const tGood = Date.now();
      good = spawnRole('good', cfg);
      const r = await good.next('served', 90_000);
      const cpuShare = (server.cpu() - cpu0) / ((Date.now() - tGood) / 1000);
      clearInterval(watch);
      attacker.send('stop');
      const stopped = await attacker.next('stopped', 30_000);
      const results = r.results as Array<Served & { address: string }>;
      const during = server.stats();
      const ok = results.filter((x) => x.ok);
      const served = ok.map((x) => x.servedMs);
      const byAddr: Record<string, number> = {};
      for (const x of ok) byAddr[x.address] = Math.max(byAddr[x.address] ?? 0, x.servedMs);
      lines.push(`100 well-behaved clients during the attack: ${ok.length} served; served in p50 ${percentile(served, 50).toFixed(0)} ms, p99 ${percentile(served, 99).toFixed(0)} ms, max ${Math.max(...served).toFixed(0)} ms (limit ${GOOD_LIMIT_MS}); max by source ${JSON.stringify(Object.fromEntries(Object.entries(byAddr).map(([k, v]) => [k, Math.round(v)])))}`);
      lines.push(`server during the attack: max ${maxPending} pending; admitted ${during.admitted}, evicted ${during.evicted}, evicted per address ${during.evictedPerAddress}, handshake timeouts ${during.handshakeTimeouts}; server CPU ${cpuShare.toFixed(2)} cores while the clients ran; peak RSS ${mib(server.hwm())} MiB; attacker reopened ${stopped.dropped} dropped sockets`);
      const failures = results.filter((x) => !x.ok);
      if (failures.length) lines.push(`not served: ${failures.map((x) => `${x.address}: ${x.error}`).join('; ')}`);
      // Deno: a client from the flooding address was once closed before its 101 (its head not yet read when that
      // address's pending cap evicted it), under a fixed accept queue that lets the attack's burst run ahead.
      expectUnless(['deno'], runtime, lines, 'every well-behaved client served during the slowloris', () =>
        assert.equal(failures.map((x) => `${x.address}: ${x.error}`), [], 'every well-behaved client served'));
      // Met in every run on the shared machine since pending handshakes carry no session (Node max 55-147 ms, Deno
      // 92-144 ms), but not when another process takes one of the two cores (Node max 2,144 ms, the server at a tenth
      // of a core); and Deno's listener has a fixed accept queue (511, no option) that a burst of reopened attack
      // sockets can overflow, a client's SYN then being retried after 1 s (docs/reliability.md, "Findings"). Both run
      // as known bugs; Bun's is asserted.
      expectUnless(['node', 'deno'], runtime, lines, 'clients served within 1 s during the slowloris', () =>
        assert.ok(Math.max(...served) <= GOOD_LIMIT_MS, `every client served within ${GOOD_LIMIT_MS} ms (max ${Math.max(...served).toFixed(0)})`));
      assert.ok(during.evictedPerAddress > 0, 'the flooding address was held to its share');
      assert.ok(maxPending <= 4096);
      const after = await settled(server, 20_000, base);
      lines.push(`after: RSS ${mib(base.rss)} -> ${mib(after.rss)} MiB (+${mib(after.rss - base.rss)}, bound +${mib(rssTolerance(base.rss))}, read ${(after.settleMs / 1000).toFixed(1)} s after the drain), fds ${base.fds} -> ${after.fds}, timer entries ${base.timers} -> ${after.timers}, JS heap used ${mib(base.heap)} -> ${mib(after.heap)} MiB (of ${mib(base.heapTotal)} -> ${mib(after.heapTotal)})`);
      // Deno: some runs end with one descriptor more than at idle (25 -> 26), after this attack and the wss one.
      expectUnless(['deno'], runtime, lines, 'fds back after the slowloris', () => assert.ok(after.fds <= base.fds, `fds back (${base.fds} -> ${after.fds})`));
      assert.ok(after.timers <= base.timers, `timer entries back (${base.timers} -> ${after.timers})`);
      assert.ok(after.rss - base.rss <= rssTolerance(base.rss), `RSS back within ${mib(rssTolerance(base.rss))} MiB (+${mib(after.rss - base.rss)})`);
    } finally {
      for (const l of lines) console.log(`[${runtime} slowloris] ${l}`);
      attacker.kill();
      good?.kill();
      await server.stop();
    }
  });

  test(`${runtime}: reconnect storm, 5,000 clients connecting, echoing and closing as fast as they can; RSS back within the soak's bound`, async () => {
    if (!runtimeAvailable(runtime)) throw new Error(`${runtime} missing from .tools (npm test installs the runtimes first)`);
    const seconds = Number(process.env.STREAMSOCKET_STORM_SECONDS ?? 30);
    const server = await startServer(runtime, {}, serverEnv(runtime));
    const lines: string[] = [];
    await sleep(300);
    const base = await idle(server);
    const clients = spawnRole('storm', { port: server.port, clients: 5000, seconds, addresses: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'] } satisfies StormConfig);
    try {
      let peakConns = 0;
      const watch = setInterval(() => (peakConns = Math.max(peakConns, server.stats().connections + server.stats().pending)), 200);
      const r = await clients.next('storm', (seconds + 60) * 1000);
      clearInterval(watch);
      const st = server.stats();
      const completed = r.completed as number;
      lines.push(`${seconds} s: ${completed} connections completed (${(completed / seconds).toFixed(0)}/s), ${r.failed} failed ${JSON.stringify(r.errors)}; connect-to-close p50 ${(r.p50 as number).toFixed(0)} ms, p99 ${(r.p99 as number).toFixed(0)} ms, max ${(r.max as number).toFixed(0)} ms; server: max ${peakConns} connections at once, evicted ${st.evicted}+${st.evictedPerAddress}, peak RSS ${mib(server.hwm())} MiB`);
      const after = await settled(server, 30_000, base);
      lines.push(`after: RSS ${mib(base.rss)} -> ${mib(after.rss)} MiB (+${mib(after.rss - base.rss)}, bound +${mib(rssTolerance(base.rss))}, read ${(after.settleMs / 1000).toFixed(1)} s after the drain), fds ${base.fds} -> ${after.fds}, timer entries ${base.timers} -> ${after.timers}, JS heap used ${mib(base.heap)} -> ${mib(after.heap)} MiB (of ${mib(base.heapTotal)} -> ${mib(after.heapTotal)})`);
      assert.ok(completed > 5000, 'the storm ran');
      // Before its 101 a connection may be turned away under overload (the kernel's accept queue, or the pending cap
      // dropping the oldest when 5,000 arrive at once faster than the server answers): counted and reported. After
      // its 101 nothing may fail: every upgraded client got its echo and a clean close.
      const afterUpgrade = Object.entries(r.errors as Record<string, number>).filter(([k]) => !/stage 0/.test(k));
      assert.equal(afterUpgrade, [], 'no failure after the 101');
      assert.ok(after.fds <= base.fds, 'fds back');
      assert.ok(after.timers <= base.timers, 'timer entries back');
      // Bun's RSS after the storm sits at the bound (+18.0 to +21.8 MiB in five runs, 30 s after the drain): a known
      // bug until found.
      expectUnless(['bun'], runtime, lines, 'RSS after the reconnect storm', () =>
        assert.ok(after.rss - base.rss <= rssTolerance(base.rss), `RSS back within ${mib(rssTolerance(base.rss))} MiB (+${mib(after.rss - base.rss)})`));
    } finally {
      for (const l of lines) console.log(`[${runtime} storm] ${l}`);
      clients.kill();
      await server.stop();
    }
  });

  test(`${runtime}: wss: 2,000 sockets that never start their TLS handshake (500 from each of 4 addresses) while 40 TLS clients are each served within 1 s; the TLS handshake timeouts counted`, async () => {
    if (!runtimeAvailable(runtime)) throw new Error(`${runtime} missing from .tools (npm test installs the runtimes first)`);
    const TIMEOUT = 3000;
    const server = await startServer(runtime, { tls: selfSigned(), handshakeTimeout: TIMEOUT }, serverEnv(runtime));
    const lines: string[] = [];
    await sleep(300);
    const base = await idle(server);
    const cfg: SlowlorisConfig = {
      port: server.port,
      secure: true,
      measure: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((address) => ({ address, count: 500 })),
      flood: [],
      // 40 clients over 4 s: the 2,000 TLS handshake timeouts (at 3 s) fall in the middle of them.
      good: { count: 40, spacingMs: 100, addresses: ['127.0.0.1', '127.0.0.2', '127.0.0.6'] },
      reopenMs: 10_000,
    };
    const attacker = spawnRole('slowloris', cfg, 10);
    let good: ReturnType<typeof spawnRole> | null = null;
    try {
      await attacker.next('measured', 60_000);
      await until(() => server.stats().pending >= 1990, 10_000, 'TLS sockets pending').catch(() => {});
      await sleep(300);
      const held = server.rss();
      lines.push(`2,000 TCP connections that never send a ClientHello: server ${server.stats().pending} pending, RSS ${mib(base.rss)} -> ${mib(held)} MiB (${((held - base.rss) / 2000 / 1024).toFixed(1)} KiB each)`);
      attacker.send('go');
      await attacker.next('flooded', 30_000);
      good = spawnRole('good', cfg);
      const r = await good.next('served', 90_000);
      const results = r.results as Array<Served & { address: string }>;
      const ok = results.filter((x) => x.ok).map((x) => x.servedMs);
      const st = server.stats();
      const timeouts = st.tlsHandshakeTimeouts + st.handshakeTimeouts;
      lines.push(`40 wss clients meanwhile: ${ok.length} served, p50 ${percentile(ok, 50).toFixed(0)} ms, max ${Math.max(...ok).toFixed(0)} ms (limit ${GOOD_LIMIT_MS}); timeouts counted: TLS ${st.tlsHandshakeTimeouts}, handshake ${st.handshakeTimeouts} (handshakeTimeout ${TIMEOUT} ms)`);
      const failures = results.filter((x) => !x.ok);
      if (failures.length) lines.push(`not served: ${failures.map((x) => `${x.address}: ${x.error}`).join('; ')}`);
      assert.equal(failures.map((x) => `${x.address}: ${x.error}`), [], 'every wss client served');
      expectUnless(['deno'], runtime, lines, 'wss clients served within 1 s', () =>
        assert.ok(Math.max(...ok) <= GOOD_LIMIT_MS, `every client served within ${GOOD_LIMIT_MS} ms (max ${Math.max(...ok).toFixed(0)})`));
      assert.ok(timeouts >= 1900, `the stalled TLS handshakes timed out and were counted (${timeouts})`);
      // Node owns the TLS accept and Bun's adapter sees the socket at TCP accept (its `handshake` handler): both
      // count them as TLS handshake timeouts. Deno's TLS handshake runs inside the opening handshake (lazily, on
      // the first read), so they are handshake timeouts there.
      if (runtime !== 'deno') assert.ok(st.tlsHandshakeTimeouts >= 1900, `${runtime} counts them as TLS handshake timeouts`);
      attacker.send('stop');
      await attacker.next('stopped', 30_000);
      const after = await settled(server, 20_000, base);
      lines.push(`after: fds ${base.fds} -> ${after.fds}, timer entries ${base.timers} -> ${after.timers}, RSS ${mib(base.rss)} -> ${mib(after.rss)} MiB`);
      expectUnless(['deno'], runtime, lines, 'fds back after the wss attack', () => assert.ok(after.fds <= base.fds, `fds back (${base.fds} -> ${after.fds})`));
      assert.ok(after.timers <= base.timers, 'timer entries back');
    } finally {
      for (const l of lines) console.log(`[${runtime} tls] ${l}`);
      attacker.kill();
      good?.kill();
      await server.stop();
    }
  });

  test.run();
}

/**
 * The issue's own slowloris against `streamsocket serve --echo` with its defaults: 2,000 sockets from one address
 * that each send `GET / HTTP/1.1\r\nHost: x\r\n` and then nothing, every dropped one reopened 10 s later, while a new
 * client arrives every 250 ms for 12 s: each must be served (its echo back) within 1 s, throughout.
 */
export function cliSlowlorisSuite(): void {
  if (ROLE === 'slowloris') return void slowlorisAttacker().then(() => process.exit(0));
  if (ROLE === 'good') return void goodClients().then(() => process.exit(0));

  test('streamsocket serve --echo with default options: 2,000 half-sent heads from one address, reopened every 10 s; new clients served within 1 s throughout', async () => {
    const bin = join(root, 'packages', 'cli', 'bin', 'streamsocket.js');
    const cli = spawn('sh', ['-c', `ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec "${process.execPath}" "${bin}" serve --host 127.0.0.1 --port 0 --echo --quiet`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: string[] = [];
    let attacker: ReturnType<typeof spawnRole> | null = null;
    let good: ReturnType<typeof spawnRole> | null = null;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: cli.stderr! }).on('line', (l) => {
          const m = /^listening on wss?:\/\/[^:]+:(\d+)/.exec(l);
          if (m) resolve(Number(m[1]));
        });
        cli.once('exit', (c) => reject(new Error(`streamsocket serve exited ${c}`)));
        setTimeout(() => reject(new Error('streamsocket serve did not start')), 20_000);
      });
      const cfg: SlowlorisConfig = {
        port,
        prefix: 'GET / HTTP/1.1\r\nHost: x\r\n',
        measure: [{ address: '127.0.0.2', count: 2000 }],
        flood: [],
        good: { count: 48, spacingMs: 250, addresses: ['127.0.0.1', '127.0.0.3'] },
        reopenMs: 10_000,
      };
      attacker = spawnRole('slowloris', cfg, 10);
      const m = await attacker.next('measured', 60_000);
      attacker.send('go');
      await attacker.next('flooded', 30_000);
      good = spawnRole('good', cfg);
      const r = await good.next('served', 90_000);
      const results = r.results as Array<Served & { address: string }>;
      const ok = results.filter((x) => x.ok).map((x) => x.servedMs);
      attacker.send('stop');
      const stopped = await attacker.next('stopped', 30_000);
      lines.push(`2,000 half-sent heads from 127.0.0.2 (${m.connected} connected; ${stopped.dropped} dropped by the server and reopened 10 s later); 48 clients over 12 s: ${ok.length} served, p50 ${percentile(ok, 50).toFixed(0)} ms, p99 ${percentile(ok, 99).toFixed(0)} ms, max ${Math.max(...ok).toFixed(0)} ms`);
      const failures = results.filter((x) => !x.ok);
      assert.equal(failures.map((x) => `${x.address}: ${x.error}`), [], 'every client served');
      assert.ok(Math.max(...ok) <= GOOD_LIMIT_MS, `every client served within ${GOOD_LIMIT_MS} ms (max ${Math.max(...ok).toFixed(0)})`);
      assert.ok((stopped.dropped as number) > 0, 'the server dropped slow sockets to make room');
    } finally {
      for (const l of lines) console.log(`[cli slowloris] ${l}`);
      attacker?.kill();
      good?.kill();
      cli.kill('SIGTERM');
      await new Promise((r) => (cli.exitCode !== null ? r(null) : cli.once('exit', r)));
    }
  });

  test.run();
}
