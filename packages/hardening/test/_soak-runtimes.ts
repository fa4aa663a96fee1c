/**
 * The soak on Deno and Bun (issue 15; soak-deno.node.test.ts, soak-bun.node.test.ts), as soak.node.test.ts runs it on Node: 10,000 concurrent connections to one
 * server process (`serve()` of the runtime's adapter, test/fixtures/attack-server.mjs, echo), from 4 client
 * processes of soak.node.test.ts's own raw RFC 6455 client (sequence-numbered messages, random clean closes,
 * abrupt disconnects and reconnects), each bound to its own loopback address. Checked: 10,000 open at once; zero
 * messages lost on clean closes, zero duplicated or reordered on any; every echo within 10 s (a message echoed
 * later is counted as late, apart from lost: the client waits 20 s more before a clean close); after all close: sessions, pending
 * handshakes, descriptors and session timer entries back, and the server's anonymous RSS within the soak's bound
 * (max(20 MiB, 10 %) of the idle RSS). Knobs: STREAMSOCKET_SOAK_CONNECTIONS, STREAMSOCKET_SOAK_SECONDS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { MiB, bundleTest, root, rssAnon, runtimeAvailable, serverEnv, settleMemory, sleep, startServer, until, type Runtime } from './_attack.js';
import { STRICT } from './_known.js';

const CONNECTIONS = Number(process.env.STREAMSOCKET_SOAK_CONNECTIONS ?? 10_000);
const SECONDS = Number(process.env.STREAMSOCKET_SOAK_SECONDS ?? 20);
const CLIENT_PROCS = 4;
const rssTolerance = (baseline: number): number => Math.max(20 * MiB, baseline * 0.1);
const mib = (n: number): string => (n / MiB).toFixed(1);

/** An assertion Deno's server does not meet yet: a failure there is an open known bug (strict mode fails it). */
function known(runtime: Runtime, lines: string[], name: string, check: () => void): void {
  if (runtime !== 'deno') return check();
  try {
    check();
  } catch (e) {
    if (STRICT) throw e;
    lines.push(`[known bug] OPEN: Deno ${name}: ${(e as Error).message}`);
  }
}

/**
 * Seconds the server's main thread ran and waited runnable for a CPU so far (Linux schedstat: on-CPU ns, run-queue
 * ns): run + wait close to the elapsed time means the event loop had work all along, and wait is the share the
 * machine did not give it.
 */
function mainThreadSched(pid: number): { run: number; wait: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { run: run! / 1e9, wait: wait! / 1e9 };
  } catch {
    return { run: 0, wait: 0 };
  }
}

function client(script: string, env: Record<string, string>, on: (o: Record<string, unknown>) => void): ChildProcess {
  const cmd = `ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec "${process.execPath}" "${script}"`;
  const c = spawn('sh', ['-c', cmd], { cwd: root, env: { ...process.env, ...env, STREAMSOCKET_SOAK_ROLE: 'client', NODE_V8_COVERAGE: '' }, stdio: ['pipe', 'pipe', 'inherit'] });
  createInterface({ input: c.stdout! }).on('line', (l) => {
    if (l.startsWith('SOAK ')) on(JSON.parse(l.slice(5)) as Record<string, unknown>);
  });
  return c;
}

/** One runtime per test file (soak-deno, soak-bun): each soak takes 1-2 minutes of the runner's per-file bound. */
export function soakSuite(runtime: Runtime): void {
  test(`${runtime}: soak, ${CONNECTIONS} concurrent connections, ${SECONDS} s of echo with random disconnects; nothing lost, duplicated or reordered; memory back`, async () => {
    if (!runtimeAvailable(runtime)) throw new Error(`${runtime} missing from .tools (npm test installs the runtimes first)`);
    const script = await bundleTest('soak.node.test.ts', 'soak-client.mjs');
    const server = await startServer(runtime, {}, serverEnv(runtime));
    const procs: ChildProcess[] = [];
    const lines: string[] = [];
    try {
      await sleep(500);
      const g0 = await server.gc();
      await sleep(500);
      const base = { rss: server.rss(), anon: rssAnon(server.pid), fds: server.fds(), timers: g0.timers };
      const ready: number[] = [];
      const done: Array<Record<string, number>> = [];
      const t0 = Date.now();
      for (let i = 0; i < CLIENT_PROCS; i++) {
        procs.push(client(script, {
          STREAMSOCKET_SOAK_PORT: String(server.port), STREAMSOCKET_SOAK_COUNT: String(Math.ceil(CONNECTIONS / CLIENT_PROCS)),
          STREAMSOCKET_SOAK_SEED: String(1000 + i), STREAMSOCKET_SOAK_LOCAL_ADDRESS: `127.0.0.${2 + i}`,
        }, (o) => {
          if (o.type === 'ready') ready.push(o.live as number);
          if (o.type === 'done') done.push(o as Record<string, number>);
        }));
      }
      let peak = 0;
      const watch = setInterval(() => (peak = Math.max(peak, server.stats().connections)), 250);
      await until(() => ready.length === CLIENT_PROCS, 100_000, 'clients connected');
      await until(() => server.stats().connections >= CONNECTIONS, 5000, 'server sees all').catch(() => {});
      const rampMs = Date.now() - t0;
      const atPeak = { conns: server.stats().connections, rss: server.rss() };
      const cpu0 = server.cpu();
      const sched0 = mainThreadSched(server.pid);
      for (const c of procs) c.stdin!.write('go\n');
      await sleep(SECONDS * 1000);
      const cpuLoad = (server.cpu() - cpu0) / SECONDS;
      const sched1 = mainThreadSched(server.pid);
      const mainRun = (sched1.run - sched0.run) / SECONDS;
      const mainWait = (sched1.wait - sched0.wait) / SECONDS;
      for (const c of procs) c.stdin!.write('stop\n');
      await until(() => done.length === CLIENT_PROCS, 60_000, 'clients done');
      clearInterval(watch);
      const sum = (k: string): number => done.reduce((a, d) => a + (d[k] ?? 0), 0);
      const totals = Object.fromEntries(['opened', 'refused', 'rejected', 'failed', 'clean', 'abrupt', 'sent', 'echoed', 'dup', 'reordered', 'lostOnClean', 'lateOnClean', 'echoesOver1s', 'echoesOver10s'].map((k) => [k, sum(k)]));
      totals.maxEchoMs = Math.max(...done.map((d) => d.maxEchoMs ?? 0));
      await until(() => server.stats().pending === 0 && server.stats().connections === 0, 20_000, 'server drained');
      const settle = await settleMemory(server, () => rssAnon(server.pid), base.anon, rssTolerance(base.rss));
      const g = settle.stats;
      const anon = settle.value;
      const after = { rss: server.rss(), anon, fds: server.fds(), timers: g.timers };
      lines.push(`ramp ${rampMs} ms to ${ready.reduce((a, b) => a + b, 0)} client connections, server saw ${atPeak.conns} open at once (max ${peak}); ${SECONDS} s of traffic, server CPU ${cpuLoad.toFixed(2)} cores (main thread: ran ${mainRun.toFixed(2)} s and waited ${mainWait.toFixed(2)} s for a CPU per second)`);
      lines.push(`totals ${JSON.stringify(totals)}`);
      lines.push(`server RSS idle ${mib(base.rss)} MiB, with ${atPeak.conns} connections ${mib(atPeak.rss)} MiB (${((atPeak.rss - base.rss) / Math.max(1, atPeak.conns) / 1024).toFixed(1)} KiB each); after all closed + GC (read ${(settle.ms / 1000).toFixed(1)} s after the drain): RSS ${mib(after.rss)} MiB, anonymous ${mib(base.anon)} -> ${mib(after.anon)} MiB (+${mib(after.anon - base.anon)}, bound +${mib(rssTolerance(base.rss))}); fds ${base.fds} -> ${after.fds}, timer entries ${base.timers} -> ${after.timers}, JS heap used ${mib(g.heapUsed)} MiB`);
      assert.ok(peak >= CONNECTIONS, `${peak} concurrent connections reached`);
      assert.is(totals.failed, 0, 'every slot connected');
      assert.is(totals.dup, 0, 'no duplicate');
      assert.is(totals.reordered, 0, 'no reorder');
      // Before its clean close the client waits 10 s for every echo, then up to 20 s more: what comes then is late,
      // what never comes is lost. Nothing may be lost in any runtime. Deno's server falls behind on the shared
      // machine (its main thread runnable all along, given about half a core: docs/reliability.md, "Findings"), so
      // some echoes there take longer than 10 s: a known bug in Deno, as is the in-flight bound on abrupt closes
      // (an abrupt close then cuts off more than the last two messages' echoes).
      assert.is(totals.lostOnClean, 0, 'nothing lost on clean closes');
      known(runtime, lines, 'every echo within 10 s', () => {
        assert.is(totals.lateOnClean, 0, `every echo before a clean close within 10 s (${totals.lateOnClean} later, slowest ${totals.maxEchoMs} ms)`);
        assert.ok(totals.echoed! > 0 && totals.sent! - totals.echoed! <= totals.abrupt! * 2, 'only messages in flight on abrupt disconnects may be missing');
      });
      assert.ok(after.fds <= base.fds, 'fds back');
      assert.ok(after.timers <= base.timers, 'timer entries back');
      assert.ok(after.anon - base.anon <= rssTolerance(base.rss), `anonymous RSS back within ${mib(rssTolerance(base.rss))} MiB (+${mib(after.anon - base.anon)})`);
    } finally {
      for (const l of lines) console.log(`[${runtime} soak] ${l}`);
      for (const p of procs) p.kill('SIGKILL');
      await server.stop();
    }
  });
  test.run();
}
