// End-to-end echo benchmark: every server under test against one C load generator, in one run.
//
//   node bench/e2e/run.mjs                       the whole matrix: 5 rounds, 1 s warm-up + 3 s per cell, idle test
//   node bench/e2e/run.mjs --quick               1 round, 0.3 s + 1 s per cell, 1,000 idle connections
//   options: --servers a,b  --workloads a,b  --rounds N  --warmup S  --duration S  --idle-conns N  --no-idle
//            --fixed-mask (one masking key per connection instead of a fresh key per frame)
//            --out DIR (default bench/e2e/results)  --list (print servers and workloads, then exit)
//
// Each cell starts a fresh server pinned to CPU 0 (taskset), runs bench/e2e/.build/loadgen pinned to CPU 1 against
// it, samples the server's CPU time over loadgen's measuring window, and kills the server. Rounds interleave the
// servers (each round also rotates their order) so that drift of a shared machine hits all of them alike; the
// table reports each cell's median over the rounds with the spread of its rounds beside it ((max - min) / median);
// a cell that spread more than SPREAD_LIMIT is marked, and so is every ratio and target drawn from it.
// The load generator masks every frame with a fresh key, as browsers do (RFC 6455 5.3), unless --fixed-mask.
// Writes results.json, results.md (the table) and chart.svg.
// See README.md next to this file for what is measured and how to read it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, release } from 'node:os';
import { createRequire } from 'node:module';
import { runtimeCommand } from '../../packages/devtools/runtimes.mjs';
import { sourceAliases, root } from '../../packages/devtools/workspace.mjs';
import { renderChart } from './chart.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, '.build');
const SERVER_CPU = '0';
const LOADGEN_CPU = '1';

// ---- options ---------------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (n) => argv.includes(`--${n}`);
const opt = (n, d) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d;
};
const quick = flag('quick');
const rounds = Number(opt('rounds', quick ? 1 : 5));
const fixedMask = flag('fixed-mask');
/** A cell whose rounds spread more than this ((max - min) / median of msg/s) is marked as not settled. */
const SPREAD_LIMIT = 0.2;
const warmup = Number(opt('warmup', quick ? 0.3 : 1));
const duration = Number(opt('duration', quick ? 1 : 3));
const idleConns = Number(opt('idle-conns', quick ? 1000 : 5000));
const outDir = opt('out', join(here, 'results'));
// --cpu-prof DIR: Node and Bun servers run with --cpu-prof and write one profile per cell into DIR (Deno: --v8-flags=--prof
// isolate logs, read with `node --prof-process`). Summarise with profile-summary.mjs. Profiling costs throughput:
// don't compare figures of a profiled run with an unprofiled one.
const profDir = opt('cpu-prof', null);

// ---- what runs -------------------------------------------------------------------------------------------------

/**
 * family: the runtime whose native server and raw TCP echo the server is compared with.
 * kind: 'ws' speaks WebSocket, 'tcp' is a byte echo (loadgen --mode tcp).
 * deflate: the server can negotiate permessage-deflate (given `--deflate`).
 */
const SERVERS = [
  { id: 'streamsocket-node', label: '@streamsocket/node', runtime: 'node', family: 'node', kind: 'ws', deflate: true, ours: true, src: 'servers/streamsocket-node.mjs' },
  { id: 'ws', label: 'ws (Node)', runtime: 'node', family: 'node', kind: 'ws', deflate: true, file: 'servers/ws-node.mjs' },
  { id: 'tcp-node', label: 'raw TCP (Node)', runtime: 'node', family: 'node', kind: 'tcp', file: 'servers/tcp-node.mjs' },
  { id: 'streamsocket-bun', label: '@streamsocket/bun', runtime: 'bun', family: 'bun', kind: 'ws', deflate: true, ours: true, src: 'servers/streamsocket-bun.mjs' },
  { id: 'bun-native', label: 'Bun.serve', runtime: 'bun', family: 'bun', kind: 'ws', deflate: true, file: 'servers/bun-native.js' },
  { id: 'tcp-bun', label: 'raw TCP (Bun)', runtime: 'bun', family: 'bun', kind: 'tcp', file: 'servers/tcp-bun.js' },
  { id: 'streamsocket-deno', label: '@streamsocket/deno', runtime: 'deno', family: 'deno', kind: 'ws', deflate: true, ours: true, src: 'servers/streamsocket-deno.mjs' },
  { id: 'deno-native', label: 'Deno.serve', runtime: 'deno', family: 'deno', kind: 'ws', deflate: false, file: 'servers/deno-native.js' },
  { id: 'tcp-deno', label: 'raw TCP (Deno)', runtime: 'deno', family: 'deno', kind: 'tcp', file: 'servers/tcp-deno.js' },
  // The request path (websocketRoute): the platform's own WebSocket behind our stream API; compared with *-native.
  { id: 'route-bun', label: 'websocketRoute on Bun.serve', runtime: 'bun', family: 'bun', kind: 'ws', deflate: true, ours: true, src: 'servers/route-bun.mjs' },
  { id: 'route-deno', label: 'websocketRoute on Deno.serve', runtime: 'deno', family: 'deno', kind: 'ws', deflate: false, ours: true, src: 'servers/route-deno.mjs' },
  // The WebSocket class (webSocket: true, onmessage -> send): the event API, no streams. Not in the default matrix
  // (name them with --servers); compared with the stream API's servers above and the runtimes' own.
  { id: 'streamsocket-node-class', label: '@streamsocket/node, WebSocket class', runtime: 'node', family: 'node', kind: 'ws', deflate: true, ours: true, extra: true, src: 'servers/class-echo.mjs', adapter: 'node' },
  { id: 'streamsocket-bun-class', label: '@streamsocket/bun, WebSocket class', runtime: 'bun', family: 'bun', kind: 'ws', deflate: true, ours: true, extra: true, src: 'servers/class-echo.mjs', adapter: 'bun' },
  { id: 'streamsocket-deno-class', label: '@streamsocket/deno, WebSocket class', runtime: 'deno', family: 'deno', kind: 'ws', deflate: true, ours: true, extra: true, src: 'servers/class-echo.mjs', adapter: 'deno' },
  { id: 'route-bun-class', label: 'websocketRoute on Bun.serve, WebSocket class', runtime: 'bun', family: 'bun', kind: 'ws', deflate: true, ours: true, extra: true, src: 'servers/route-bun-class.mjs' },
  { id: 'route-deno-class', label: 'websocketRoute on Deno.serve, WebSocket class', runtime: 'deno', family: 'deno', kind: 'ws', deflate: false, ours: true, extra: true, src: 'servers/route-deno-class.mjs' },
  // C echoes: the load generator's own ceilings (WebSocket and raw TCP); no JavaScript server can go faster.
  { id: 'ws-c', label: 'WebSocket echo (C)', runtime: 'c', family: 'c', kind: 'ws', exe: 'ws-echo' },
  { id: 'tcp-c', label: 'raw TCP (C)', runtime: 'c', family: 'c', kind: 'tcp', exe: 'tcp-echo' },
];
const NATIVE = { node: 'ws', bun: 'bun-native', deno: 'deno-native' };
const RAW = { node: 'tcp-node', bun: 'tcp-bun', deno: 'tcp-deno' };

const WORKLOADS = [
  { id: '16B', label: '16 B binary', size: 16, type: 'binary', conns: 64, inflight: 16 },
  { id: '100B-text', label: '100 B text', size: 100, type: 'text', conns: 64, inflight: 16 },
  { id: '16KiB', label: '16 KiB binary', size: 16384, type: 'binary', conns: 16, inflight: 4 },
  { id: '1MiB', label: '1 MiB binary', size: 1 << 20, type: 'binary', conns: 4, inflight: 2 },
  // permessage-deflate on both sides; only servers that negotiate it (ws, ours) take part.
  { id: '16KiB-deflate', label: '16 KiB binary, permessage-deflate', size: 16384, type: 'binary', conns: 16, inflight: 4, deflate: true,
    only: ['ws', 'streamsocket-node', 'streamsocket-bun', 'streamsocket-deno', 'bun-native', 'streamsocket-node-class', 'streamsocket-bun-class', 'streamsocket-deno-class'] },
];

if (flag('list')) {
  console.log('servers:   ' + SERVERS.map((s) => s.id).join(', '));
  console.log('workloads: ' + WORKLOADS.map((w) => w.id).join(', '));
  process.exit(0);
}
// --variant PKG=DIR[,PKG=DIR]: also run @streamsocket/PKG's server bundled from DIR/src (a patched copy of
// packages/PKG) as `streamsocket-PKG-variant`, interleaved with the original: how an owner checks a proposed fix.
// --variant-servers A,B: the servers to pair with the variant instead (for a package no server is named after, such
// as session: `--variant session=/tmp/old/packages/session --variant-servers streamsocket-node-class`).
for (const v of (opt('variant', '') || '').split(',').filter(Boolean)) {
  const [pkg, dir] = v.split('=');
  const ids = opt('variant-servers') ? opt('variant-servers').split(',') : [`streamsocket-${pkg}`];
  for (const id of ids) {
    const base = SERVERS.find((s) => s.id === id) ?? die(`--variant: no server ${id}`);
    SERVERS.splice(SERVERS.indexOf(base) + 1, 0, { ...base, id: `${base.id}-variant`, label: `${base.label} (variant)`, override: { pkg, dir } });
    for (const w of WORKLOADS) if (w.only?.includes(base.id)) w.only.push(`${base.id}-variant`);
  }
}
const pick = (all, list) => (list ? list.split(',').map((id) => all.find((x) => x.id === id) ?? die(`unknown: ${id}`)) : all.filter((x) => !x.extra));
function die(msg) { console.error(msg); process.exit(1); }
const servers = pick(SERVERS, opt('servers'));
const workloads = pick(WORKLOADS, opt('workloads'));

// ---- build -----------------------------------------------------------------------------------------------------

function newer(src, out) { return !existsSync(out) || statSync(src).mtimeMs > statSync(out).mtimeMs; }

function buildNative() {
  mkdirSync(buildDir, { recursive: true });
  if (!existsSync('/usr/include/zlib.h')) {
    // loadgen's permessage-deflate uses zlib; Debian's headers are one apt-get away (the machines run as root).
    console.log('installing zlib1g-dev for the load generator ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', 'zlib1g-dev'], { stdio: 'inherit', env });
  }
  const targets = [['loadgen', 'loadgen.c', ['-lz']], ['tcp-echo', 'tcp-echo.c', []], ['ws-echo', 'ws-echo.c', []]];
  for (const [exe, src, libs] of targets) {
    const out = join(buildDir, exe);
    if (!newer(join(here, src), out) && !newer(join(here, 'sha1.h'), out)) continue;
    const r = spawnSync('gcc', ['-O2', '-Wall', '-o', out, join(here, src), ...libs], { stdio: 'inherit' });
    if (r.status !== 0) die(`gcc failed for ${src}`);
  }
}

/** Bundles our adapters' servers from the packages' TypeScript sources (no build step needed); null when it fails. */
async function bundleOurs(s) {
  const { build } = await import('esbuild');
  const outfile = join(buildDir, `${s.id}.mjs`);
  try {
    await build({
      entryPoints: [join(here, s.src)], outfile, bundle: true, format: 'esm', platform: 'node', target: 'es2022',
      alias: {
        ...sourceAliases(),
        ...(s.adapter ? { '@streamsocket/adapter': sourceAliases()[`@streamsocket/${s.adapter}`] } : {}),
        ...(s.override ? { [`@streamsocket/${s.override.pkg}`]: join(s.override.dir, 'src', 'index.ts') } : {}),
      },
      external: ['node:*'], logLevel: 'silent', minify: false, sourcemap: 'linked',
    });
    return outfile;
  } catch (e) {
    s.unavailable = (e.errors?.[0]?.text ?? String(e)).split('\n')[0];
    return null;
  }
}

// ---- processes -------------------------------------------------------------------------------------------------

function serverArgv(s, deflate, profTag) {
  const extra = deflate ? ['--deflate'] : [];
  if (s.exe) return [join(buildDir, s.exe), ...extra];
  const [cmd, args] = runtimeCommand(s.runtime);
  const file = s.bundle ?? join(here, s.file);
  if (profDir && profTag) {
    const dir = join(profDir, profTag);
    mkdirSync(dir, { recursive: true });
    const term = join(here, 'servers', 'exit-on-term.mjs');
    if (s.runtime === 'node') return [cmd, '--import', term, '--cpu-prof', '--cpu-prof-dir', dir, ...args, file, ...extra];
    if (s.runtime === 'bun') return [cmd, ...args, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--preload', term, file, ...extra];
    if (s.runtime === 'deno') return [cmd, ...args, '--v8-flags=--prof,--logfile=' + join(dir, 'isolate.log'), file, ...extra];
  }
  return [cmd, ...args, file, ...extra];
}

/** Starts a server on CPU 0 with the hard fd limit; resolves with { child, port } once it prints `PORT n`. */
function startServer(s, deflate, profTag) {
  const cmd = serverArgv(s, deflate, profTag);
  // The shell raises the soft fd limit to the hard one (5,000 idle connections need > 1024) and execs taskset,
  // which execs the runtime: the pid we hold is the server's own.
  const child = track(spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec taskset -c "$0" "$@"', SERVER_CPU, ...cmd], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: here,
    env: { ...process.env, NODE_ENV: 'production' },
  }), true);
  let err = '';
  child.stderr.on('data', (d) => { err += d; if (err.length > 4000) err = err.slice(-4000); });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { kill(child); reject(new Error(`${s.id}: no PORT line within 20 s\n${err}`)); }, 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) { clearTimeout(timer); child.stdout.removeAllListeners('data'); child.stdout.resume(); resolve({ child, port: Number(m[1]), stderr: () => err }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${s.id} exited (${code}) before listening\n${err}`)); });
  });
}

function kill(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}

/**
 * Every server and loadgen still running. Servers run in their own process group (so that a kill reaches the
 * runtime's threads and helpers), which also means they would outlive this script if it were interrupted (Ctrl-C, a
 * `timeout`): so on exit and on those signals, everything still alive is killed.
 */
const live = new Set();
function track(child, group) {
  const entry = { child, group };
  live.add(entry);
  child.once('exit', () => live.delete(entry));
  return child;
}
function killAll() {
  for (const { child, group } of live) {
    if (group) kill(child);
    else try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killAll();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}
async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  if (profDir) {
    // let the profiler write its file; SIGKILL if the server does not exit within 10 s
    child.kill('SIGTERM');
    if (await Promise.race([gone.then(() => true), sleep(10_000).then(() => false)])) return;
  }
  kill(child);
  await gone;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;
/** CPU seconds (user + system, all threads) the process has used. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of proc(5): utime, stime
  } catch { return NaN; }
}
function rssBytes(pid) {
  try { return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024; } catch { return NaN; }
}

/** Runs loadgen on CPU 1; calls onLine for every stdout line; resolves with the last JSON line. */
function runLoadgen(args, onLine = () => {}, { stdin = 'ignore', timeoutMs = 120_000 } = {}) {
  const child = track(spawn('taskset', ['-c', LOADGEN_CPU, join(buildDir, 'loadgen'), ...args], { stdio: [stdin, 'pipe', 'pipe'] }), false);
  let buf = '', last = null, err = '';
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) last = JSON.parse(line);
      onLine(line, child);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(timer);
    resolve(last ?? { ok: false, error: `loadgen exited ${code} without a result ${err.trim()}` });
  }));
  return { child, done };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- cells -----------------------------------------------------------------------------------------------------

async function throughputCell(s, w) {
  let srv;
  try { srv = await startServer(s, !!w.deflate, `${s.id}-${w.id}`); } catch (e) { return { ok: false, error: String(e.message).split('\n')[0] }; }
  const args = ['--port', String(srv.port), '--mode', s.kind, '--size', String(w.size), '--type', w.type,
    '--conns', String(w.conns), '--inflight', String(w.inflight), '--warmup', String(warmup), '--duration', String(duration)];
  if (w.deflate) args.push('--deflate');
  if (fixedMask) args.push('--fixed-mask');
  let cpu0 = NaN, t0 = 0;
  const pid = srv.child.pid;
  const { done } = runLoadgen(args, (line) => {
    if (line === 'WINDOW') { cpu0 = cpuSeconds(pid); t0 = performance.now(); }
  }, { timeoutMs: (warmup + duration + 60) * 1000 });
  const r = await done;
  const cpu1 = cpuSeconds(pid), t1 = performance.now();
  const rss = rssBytes(pid);
  const exited = srv.child.exitCode !== null || srv.child.signalCode !== null;
  await stopServer(srv.child);
  if (!r.ok) return { ok: false, error: r.error + (exited ? ` | server: ${srv.stderr().trim().split('\n').slice(-3).join(' / ')}` : '') };
  return { ...r, serverCpu: (cpu1 - cpu0) / ((t1 - t0) / 1000), serverRss: rss };
}

async function idleCell(s) {
  let srv;
  try { srv = await startServer(s, false); } catch (e) { return { ok: false, error: String(e.message).split('\n')[0] }; }
  const pid = srv.child.pid;
  await sleep(1000); // let start-up allocation settle
  const before = rssBytes(pid);
  let readyAt = null, after = NaN;
  const { child, done } = runLoadgen(['--port', String(srv.port), '--mode', s.kind, '--idle', '--conns', String(idleConns), '--size', '16'],
    (line) => { if (line.startsWith('READY')) readyAt = line; }, { stdin: 'pipe', timeoutMs: 180_000 });
  for (let i = 0; i < 1800 && !readyAt && child.exitCode === null; i++) await sleep(100);
  if (readyAt) {
    await sleep(2000); // connections idle: whatever the server allocates lazily has happened
    after = rssBytes(pid);
  }
  child.stdin.end();
  const r = await done;
  await stopServer(srv.child);
  if (!readyAt) return { ok: false, error: r.error ?? 'idle connections not established' };
  return { ok: true, before, after, perConn: (after - before) / idleConns, conns: idleConns };
}

// ---- the run ---------------------------------------------------------------------------------------------------

/** (max - min) / median: 0.2 means the rounds' extremes lie 20% of the median apart. NaN with fewer than two rounds. */
const spreadOf = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length < 2) return NaN;
  return (Math.max(...v) - Math.min(...v)) / median(v);
};

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

function versions() {
  const v = (cmd, args) => { try { return spawnSync(cmd, args).stdout.toString().split('\n')[0].trim(); } catch { return '?'; } };
  const req = createRequire(join(here, '..', 'package.json'));
  const pkgVersion = (n) => { try { return JSON.parse(readFileSync(req.resolve(`${n}/package.json`), 'utf8')).version; } catch { return '?'; } };
  const [bun] = runtimeCommand('bun'), [deno] = runtimeCommand('deno');
  return {
    node: process.version, bun: v(bun, ['--version']), deno: v(deno, ['--version']), ws: pkgVersion('ws'),
    bufferutil: pkgVersion('bufferutil'), 'utf-8-validate': pkgVersion('utf-8-validate'),
    gcc: v('gcc', ['-dumpfullversion']), kernel: release(), cpu: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    commit: v('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
  };
}

async function main() {
  buildNative();
  for (const s of servers) if (s.src) s.bundle = await bundleOurs(s);
  const active = servers.filter((s) => !s.unavailable);
  for (const s of servers) if (s.unavailable) console.log(`skipping ${s.id}: ${s.unavailable}`);
  const started = new Date();
  const env = versions();
  console.log(`e2e bench: ${rounds} round(s), ${warmup} s warm-up + ${duration} s per cell, server on CPU ${SERVER_CPU}, loadgen on CPU ${LOADGEN_CPU}`);
  console.log(Object.entries(env).map(([k, v]) => `${k} ${v}`).join(' | '));

  const cells = new Map(); // `${w}|${s}` -> results[]
  const idle = new Map(); // s -> results[]
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const w of workloads) {
      const list = active.filter((s) => (w.only ? w.only.includes(s.id) : true) && (!w.deflate || s.deflate));
      const order = list.map((_, i) => list[(i + r) % list.length]); // rotate per round
      for (const s of order) {
        const res = await throughputCell(s, w);
        const key = `${w.id}|${s.id}`;
        if (!cells.has(key)) cells.set(key, []);
        cells.get(key).push(res);
        const line = res.ok
          ? `${fmtRate(res.msgsPerSec).padStart(9)} msg/s ${res.mibPerSec.toFixed(1).padStart(8)} MiB/s  p50 ${fmtUs(res.p50us)} p99 ${fmtUs(res.p99us)}  cpu srv ${res.serverCpu.toFixed(2)} lg ${res.cpu.toFixed(2)}`
          : `FAILED: ${res.error}`;
        console.log(`[${r + 1}/${rounds}] ${w.id.padEnd(14)} ${s.id.padEnd(18)} ${line}`);
      }
    }
    if (!flag('no-idle')) {
      const order = active.map((_, i) => active[(i + r) % active.length]);
      for (const s of order) {
        const res = await idleCell(s);
        if (!idle.has(s.id)) idle.set(s.id, []);
        idle.get(s.id).push(res);
        console.log(`[${r + 1}/${rounds}] idle x${idleConns} ${s.id.padEnd(18)} ${res.ok ? `RSS ${mib(res.before)} -> ${mib(res.after)} MiB, ${(res.perConn / 1024).toFixed(2)} KiB/conn` : `FAILED: ${res.error}`}`);
      }
    }
  }
  const elapsed = (performance.now() - t0) / 1000;

  // medians per cell
  const summary = [];
  for (const w of workloads) {
    for (const s of active) {
      const rs = cells.get(`${w.id}|${s.id}`);
      if (!rs) continue;
      const ok = rs.filter((x) => x.ok);
      const row = { workload: w.id, server: s.id, runs: rs.length, ok: ok.length, errors: rs.filter((x) => !x.ok).map((x) => x.error) };
      for (const k of ['msgsPerSec', 'mibPerSec', 'p50us', 'p99us', 'serverCpu', 'cpu']) row[k] = median(ok.map((x) => x[k]));
      row.allMsgsPerSec = ok.map((x) => Math.round(x.msgsPerSec));
      row.spread = spreadOf(row.allMsgsPerSec);
      row.unsettled = row.spread > SPREAD_LIMIT;
      // Messages per second of server CPU: on a machine shared with other work a server may not get its whole core;
      // this figure is what it did with the CPU it got (equal to msgsPerSec when it saturated its core).
      row.msgsPerCpuSec = median(ok.map((x) => x.msgsPerSec / x.serverCpu));
      summary.push(row);
    }
  }
  const find = (w, s) => summary.find((x) => x.workload === w && x.server === s);
  for (const row of summary) {
    const s = SERVERS.find((x) => x.id === row.server);
    const ratio = (other) => { const o = other && find(row.workload, other); return o && o.msgsPerSec > 0 ? row.msgsPerSec / o.msgsPerSec : NaN; };
    const unsettled = (other) => row.unsettled || !!(other && find(row.workload, other)?.unsettled);
    row.vsWsUnsettled = unsettled('ws');
    row.vsNativeUnsettled = unsettled(NATIVE[s.family]);
    row.vsRawUnsettled = unsettled(RAW[s.family]);
    row.vsWs = row.server === 'ws' ? NaN : ratio('ws');
    row.vsNative = NATIVE[s.family] && NATIVE[s.family] !== row.server ? ratio(NATIVE[s.family]) : NaN;
    row.vsRaw = RAW[s.family] && RAW[s.family] !== row.server && s.kind === 'ws' ? ratio(RAW[s.family]) : NaN;
    // A cell whose load generator used (nearly) a whole core while the server did not is bounded by the load
    // generator: its figure is a lower bound for the server.
    row.loadgenBound = row.cpu >= 0.9 && row.serverCpu < 0.9;
  }
  const idleRows = [];
  for (const s of active) {
    const rs = idle.get(s.id);
    if (!rs) continue;
    const ok = rs.filter((x) => x.ok);
    idleRows.push({ server: s.id, conns: idleConns, before: median(ok.map((x) => x.before)), after: median(ok.map((x) => x.after)),
      perConn: median(ok.map((x) => x.perConn)), errors: rs.filter((x) => !x.ok).map((x) => x.error) });
  }
  const targets = evaluateTargets(find, idleRows);

  const command = `node bench/e2e/run.mjs ${argv.join(' ')}`.trim();
  const result = { started: started.toISOString(), elapsedSeconds: Math.round(elapsed), command, rounds, warmup, duration, env,
    masking: fixedMask ? 'fixed key per connection' : 'fresh key per frame', spreadLimit: SPREAD_LIMIT,
    skipped: servers.filter((s) => s.unavailable).map((s) => ({ server: s.id, reason: s.unavailable })), summary, idle: idleRows, targets };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  const md = renderMarkdown(result);
  writeFileSync(join(outDir, 'results.md'), md);
  writeFileSync(join(outDir, 'chart.svg'), renderChart(result, { SERVERS, WORKLOADS }));
  console.log('\n' + md);
  console.log(`wrote ${relative(process.cwd(), join(outDir, 'results.json'))}, results.md, chart.svg (${Math.round(elapsed)} s)`);
}

// ---- targets ---------------------------------------------------------------------------------------------------

function evaluateTargets(find, idleRows) {
  const t = [];
  const add = (name, w, s, ref, min, field = 'msgsPerSec') => {
    const a = find(w, s), b = find(w, ref);
    const ratio = a && b && b[field] > 0 ? a[field] / b[field] : NaN;
    // the same ratio per server CPU-second: evidence of whether a miss is the server's own cost or machine noise
    const cpuRatio = a && b && b.msgsPerCpuSec > 0 ? a.msgsPerCpuSec / b.msgsPerCpuSec : NaN;
    const unsettled = !!(a?.unsettled || b?.unsettled);
    t.push({ target: name, workload: w, server: s, reference: ref, min, ratio, cpuRatio, unsettled, met: Number.isFinite(ratio) ? ratio >= min : null });
  };
  // The speed targets (issue 17) and the idle-memory targets (issue 16).
  for (const w of ['16B', '100B-text']) add(`@streamsocket/node >= 2.5x ws, ${w}`, w, 'streamsocket-node', 'ws', 2.5);
  for (const w of ['16KiB', '1MiB']) add(`@streamsocket/node >= 1.2x ws, ${w}`, w, 'streamsocket-node', 'ws', 1.2);
  add('@streamsocket/node >= 1.1x ws, 16 KiB deflate', '16KiB-deflate', 'streamsocket-node', 'ws', 1.1);
  for (const w of ['16B', '100B-text']) add(`@streamsocket/bun >= 0.8x Bun.serve, ${w}`, w, 'streamsocket-bun', 'bun-native', 0.8);
  for (const w of ['16KiB', '1MiB']) add(`@streamsocket/bun >= 1x Bun.serve, ${w}`, w, 'streamsocket-bun', 'bun-native', 1);
  add('@streamsocket/bun >= 0.6x Bun.serve, 16 KiB deflate', '16KiB-deflate', 'streamsocket-bun', 'bun-native', 0.6);
  for (const w of ['16B', '100B-text', '16KiB', '1MiB']) add(`@streamsocket/deno >= 1.2x Deno.serve, ${w}`, w, 'streamsocket-deno', 'deno-native', 1.2);
  // The request-path adapters (issue 13): the stream API over the platform's socket must be cheap.
  for (const w of ['16B', '16KiB']) add(`websocketRoute on Bun.serve >= 0.9x Bun.serve, ${w}`, w, 'route-bun', 'bun-native', 0.9);
  for (const w of ['16B', '16KiB']) add(`websocketRoute on Deno.serve >= 0.9x Deno.serve, ${w}`, w, 'route-deno', 'deno-native', 0.9);
  const idleTarget = (s, ref, max) => {
    const r = idleRows.find((x) => x.server === s), b = idleRows.find((x) => x.server === ref);
    const ratio = r && b ? r.perConn / b.perConn : NaN;
    t.push({ target: `${s.replace('streamsocket-', '@streamsocket/')} idle memory/conn <= ${max === 1 ? '' : `${max}x `}${ref}`, workload: 'idle', server: s, reference: ref, max, ratio,
      met: Number.isFinite(ratio) ? ratio <= max : null });
  };
  idleTarget('streamsocket-node', 'ws', 1);
  idleTarget('streamsocket-bun', 'bun-native', 2);
  idleTarget('streamsocket-deno', 'deno-native', 1);
  return t;
}

// ---- rendering -------------------------------------------------------------------------------------------------

function fmtRate(x) { return !Number.isFinite(x) ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(0)}k` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0); }
function fmtUs(x) { return !Number.isFinite(x) ? '-' : x >= 1000 ? `${(x / 1000).toFixed(1)} ms` : `${x.toFixed(0)} µs`; }
function fmtRatio(x, unsettled = false) { return Number.isFinite(x) ? `${x.toFixed(2)}x${unsettled ? ' †' : ''}` : ''; }
function fmtSpread(x) { return Number.isFinite(x) ? `±${Math.round(x * 50)}%` : ''; }
function mib(b) { return Number.isFinite(b) ? (b / 1048576).toFixed(1) : '-'; }

function renderMarkdown(r) {
  const label = (id) => SERVERS.find((s) => s.id === id)?.label ?? id;
  const out = [];
  out.push(`Run ${r.started}, ${r.rounds} round(s) of ${r.warmup} s warm-up + ${r.duration} s per cell (medians), ${r.elapsedSeconds} s in all; `
    + `\`${r.command}\`.`);
  out.push(`${Object.entries(r.env).map(([k, v]) => `${k} ${v}`).join(', ')}.`, `Masking: ${r.masking}.`, '');
  for (const s of r.skipped) out.push(`Not run: ${s.server} (${s.reason}).`, '');
  out.push('| workload | server | msg/s | spread | MiB/s | p50 | p99 | server CPU | loadgen CPU | msg per server CPU-s | vs ws | vs native | vs raw TCP |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const x of r.summary) {
    const w = WORKLOADS.find((y) => y.id === x.workload);
    const wl = `${w.label} (${w.conns}x${w.inflight})`;
    if (!x.ok) { out.push(`| ${wl} | ${label(x.server)} | failed: ${(x.errors[0] ?? '').replace(/\|/g, '/')} | | | | | | | | | | |`); continue; }
    out.push(`| ${wl} | ${label(x.server)} | ${fmtRate(x.msgsPerSec)}${x.loadgenBound ? ' (LG)' : ''} | ${fmtSpread(x.spread)}${x.unsettled ? ' †' : ''} | ${x.mibPerSec.toFixed(1)} | ${fmtUs(x.p50us)} | ${fmtUs(x.p99us)} | `
      + `${Math.round(x.serverCpu * 100)}% | ${Math.round(x.cpu * 100)}% | ${fmtRate(x.msgsPerCpuSec)} | ${fmtRatio(x.vsWs, x.vsWsUnsettled)} | ${fmtRatio(x.vsNative, x.vsNativeUnsettled)} | ${fmtRatio(x.vsRaw, x.vsRawUnsettled)} |`);
  }
  out.push('', '(LG): the load generator used >= 90% of its core while the server used < 90% of its own: the figure is a lower bound for that server.',
    `spread: half the distance between the fastest and the slowest round, as a share of the median (±10% = rounds 20% apart). †: the cell, or the cell it is compared with, spread more than ${Math.round(r.spreadLimit * 100)}% between rounds: not settled, measure again before drawing a conclusion from it.`, '');
  if (r.idle.length) {
    out.push(`Idle memory: ${r.idle[0].conns} connections (one 16-byte echo each, then idle), server RSS 1 s after start and 2 s after the last connection opened.`, '');
    out.push('| server | RSS before | RSS after | per connection | vs ws |', '| --- | ---: | ---: | ---: | ---: |');
    const ws = r.idle.find((x) => x.server === 'ws');
    for (const x of r.idle) {
      out.push(`| ${label(x.server)} | ${mib(x.before)} MiB | ${mib(x.after)} MiB | ${Number.isFinite(x.perConn) ? (x.perConn / 1024).toFixed(2) + ' KiB' : 'failed: ' + (x.errors[0] ?? '')} | `
        + `${ws && x.server !== 'ws' ? fmtRatio(x.perConn / ws.perConn) : ''} |`);
    }
    out.push('');
  }
  out.push('Targets (ratio of msg/s in this run; the per-CPU-second ratio alongside):', '', '| target | ratio | per CPU-s | met |', '| --- | ---: | ---: | --- |');
  for (const t of r.targets) out.push(`| ${t.target} | ${fmtRatio(t.ratio, t.unsettled)} | ${fmtRatio(t.cpuRatio, t.unsettled)} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'}${t.unsettled ? ' (not settled)' : ''} |`);
  out.push('');
  return out.join('\n');
}

await main();
