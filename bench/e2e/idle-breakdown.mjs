// Where an idle connection's memory goes, layer by layer: @streamsocket/node's servers (raw socket, + socket
// binding, + session, + the echo's pipeTo) next to ws, each driven by bench/e2e's C load generator in idle mode
// (handshake, one 16-byte echo, then idle), the server in its own Node process with --expose-gc.
//
//   node bench/e2e/idle-breakdown.mjs                         all kinds, 5,000 connections
//   node bench/e2e/idle-breakdown.mjs --conns 2000 --kinds session-pipe,ws --node-flags=--max-semi-space-size=1
//   (kinds: tcp, binding, session-loop, session-pipe, ws by default; also session-ws, the WebSocket-class server)
//   node bench/e2e/idle-breakdown.mjs --snap /tmp/snaps       also write a heap snapshot per kind after the run
//
// Per connection = (after − before) / conns for each figure of process.memoryUsage():
//   rss (no gc)  what bench/e2e's idle test reports: RSS 2 s after the last connection is open, nothing collected
//   rss          after a full collection (several gc() passes, see servers/idle-probe.mjs)
//   heap used    live JavaScript heap after the collection; heap total: the pages V8 holds for it
//   external     memory V8 is told about outside its heap (ArrayBuffer backing stores, zlib, ...)
//   arrayBuffers the part of `external` that is ArrayBuffer backing stores (Buffers included)
// plus the libuv resources that are still active (sockets, timers) per connection.
// Servers run on CPU 0 and loadgen on CPU 1 (taskset), as in run.mjs; the server bundles go to .build/idle/.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceAliases } from '../../packages/devtools/workspace.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, '.build', 'idle');
const argv = process.argv.slice(2);
const opt = (n, d) => {
  const eq = argv.find((a) => a.startsWith(`--${n}=`));
  if (eq) return eq.slice(n.length + 3);
  const i = argv.indexOf(`--${n}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d;
};
const conns = Number(opt('conns', 5000));
const kinds = opt('kinds', 'tcp,binding,session-loop,session-pipe,ws').split(',');
const nodeFlags = opt('node-flags', '').split(/\s+/).filter(Boolean);
const snapDir = opt('snap', null);
const rounds = Number(opt('rounds', 1));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ensureLoadgen() {
  const exe = join(here, '.build', 'loadgen');
  if (existsSync(exe)) return exe;
  mkdirSync(dirname(exe), { recursive: true });
  const r = spawnSync('gcc', ['-O2', '-o', exe, join(here, 'loadgen.c'), '-lz'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('gcc failed for loadgen.c (run.mjs installs zlib1g-dev if it is missing)');
  return exe;
}

async function bundleProbe() {
  const { build } = await import('esbuild');
  mkdirSync(buildDir, { recursive: true });
  const outfile = join(buildDir, 'idle-probe.mjs');
  await build({
    entryPoints: [join(here, 'servers', 'idle-probe.mjs')], outfile, bundle: true, format: 'esm', platform: 'node',
    target: 'es2022', alias: sourceAliases(), external: ['node:*', 'ws'], logLevel: 'silent',
  });
  return outfile;
}

function rssBytes(pid) {
  try { return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024; } catch { return NaN; }
}

/** A line-oriented child: `next(prefix)` resolves with the next stdout line starting with prefix. */
function lines(child) {
  let buf = '';
  const waiters = [];
  const seen = [];
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) waiters.splice(w, 1)[0].resolve(line);
      else seen.push(line);
    }
  });
  return (prefix, ms = 180_000) => {
    const i = seen.findIndex((l) => l.startsWith(prefix));
    if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${prefix} line within ${ms} ms`)), ms);
      waiters.push({ prefix, resolve: (l) => { clearTimeout(t); resolve(l); } });
    });
  };
}

/** Children still running, killed if this script is interrupted (they would outlive it otherwise). */
const live = new Set();
function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
const killAll = () => { for (const c of live) try { c.kill('SIGKILL'); } catch { /* gone */ } };
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { killAll(); process.exit(130); });

async function measure(kind, probe, loadgen) {
  const server = track(spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec taskset -c 0 "$@"', 'sh',
    process.execPath, '--expose-gc', ...nodeFlags, probe, kind], { stdio: ['pipe', 'pipe', 'inherit'], cwd: here }));
  const next = lines(server);
  try {
    const port = Number((await next('PORT', 20_000)).slice(5));
    await sleep(1000);
    server.stdin.write('mem\n');
    const before = JSON.parse((await next('MEM')).slice(4));
    const rssBefore = rssBytes(server.pid);
    const lg = track(spawn('taskset', ['-c', '1', loadgen, '--port', String(port), '--mode', kind === 'tcp' || kind === 'binding' ? 'tcp' : 'ws', '--idle',
      '--conns', String(conns), '--size', '16'], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lgNext = lines(lg);
    const exited = new Promise((_, reject) => lg.on('exit', (code) => reject(new Error(`${kind}: loadgen exited (${code}) before READY`))));
    await Promise.race([lgNext('READY'), exited]);
    exited.catch(() => {});
    await sleep(2000);
    const rssNoGc = rssBytes(server.pid);
    server.stdin.write('mem\n');
    const after = JSON.parse((await next('MEM')).slice(4));
    if (snapDir) {
      mkdirSync(snapDir, { recursive: true });
      server.stdin.write(`snap ${join(snapDir, `${kind}.heapsnapshot`)}\n`);
      await next('SNAP', 300_000);
    }
    lg.stdin.end();
    await new Promise((r) => lg.on('exit', r));
    const per = (a, b) => (a - b) / conns;
    const resources = {};
    for (const [k, v] of Object.entries(after.resources)) resources[k] = (v - (before.resources[k] ?? 0)) / conns;
    return {
      kind,
      rssNoGc: per(rssNoGc, rssBefore),
      rss: per(after.gc.rss, before.gc.rss),
      heapUsed: per(after.gc.heapUsed, before.gc.heapUsed),
      heapTotal: per(after.gc.heapTotal, before.gc.heapTotal),
      external: per(after.gc.external, before.gc.external),
      arrayBuffers: per(after.gc.arrayBuffers, before.gc.arrayBuffers),
      arrayBuffersNoGc: per(after.raw.arrayBuffers, before.raw.arrayBuffers),
      resources,
      spaces: Object.fromEntries(Object.keys(after.spaces).map((k) => [k, {
        size: per(after.spaces[k].size, before.spaces[k]?.size ?? 0), used: per(after.spaces[k].used, before.spaces[k]?.used ?? 0) }])),
    };
  } finally {
    server.stdin.end();
    server.kill('SIGKILL');
  }
}

const loadgen = ensureLoadgen();
const probe = await bundleProbe();
const kb = (n) => (n / 1024).toFixed(2);
const results = [];
for (let r = 0; r < rounds; r++) {
  for (const kind of kinds) {
    const m = await measure(kind, probe, loadgen);
    results.push(m);
    console.error(`${kind}: done`);
  }
}
console.log(`\n${conns} idle connections, Node ${process.version}${nodeFlags.length ? ' ' + nodeFlags.join(' ') : ''}; KiB per connection\n`);
console.log('| server | RSS (no gc) | RSS (after gc) | heap used | heap total | external | arrayBuffers | arrayBuffers (no gc) | active resources |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const spaceRows = [];
let spaceNames = [];
for (const m of results) {
  const res = Object.entries(m.resources).filter(([, v]) => Math.abs(v) >= 0.01).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  spaceRows.push(`| ${m.kind} | ${Object.values(m.spaces).map((x) => `${kb(x.used)} / ${kb(x.size)}`).join(' | ')} |`);
  spaceNames = Object.keys(m.spaces);
  console.log(`| ${m.kind} | ${kb(m.rssNoGc)} | ${kb(m.rss)} | ${kb(m.heapUsed)} | ${kb(m.heapTotal)} | ${kb(m.external)} | ${kb(m.arrayBuffers)} | ${kb(m.arrayBuffersNoGc)} | ${res} |`);
}
console.log(`\nV8 heap spaces after gc, used / size, KiB per connection\n`);
console.log(`| server | ${spaceNames.join(' | ')} |`);
console.log(`| --- |${spaceNames.map(() => ' ---: |').join('')}`);
for (const r of spaceRows) console.log(r);
