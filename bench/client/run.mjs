// Client benchmark: WebSocket clients driving one fixed peer, the C echo server of bench/e2e (ws-echo.c), over
// loopback. Each cell starts a fresh echo server pinned to CPU 0 and the client under test pinned to CPU 1, samples
// the client's CPU time (/proc/PID/stat, all threads) when it opens and closes its measuring window, and records
// messages/s and round-trip p50/p99 as the client measured them. Rounds interleave every client per workload, with
// the order rotated each round; the table gives medians over the rounds. See README.md.
//
//   node bench/client/run.mjs                 # 3 rounds, 1 s warm-up + 3 s per cell
//   node bench/client/run.mjs --quick         # 1 round, 0.3 s + 1 s per cell
//   node bench/client/run.mjs --clients ours-node,ws --workloads 16B --rounds 5
//   node bench/client/run.mjs --clients ours-node,ws --base /tmp/old   # A/B: ours also from another tree's sources
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, release } from 'node:os';
import { sourceAliases, root } from '../../packages/devtools/workspace.mjs';
import { runtimeCommand, ensureTools } from '../../packages/devtools/runtimes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const e2e = join(here, '..', 'e2e');
const buildDir = join(here, '.build');
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const rounds = Number(opt('rounds') ?? (quick ? 1 : 3));
const warmupMs = Number(opt('warmup') ?? (quick ? 300 : 1000));
const measureMs = Number(opt('measure') ?? (quick ? 1000 : 3000));

// Node clients run on Node 24 (the pinned LTS in .tools): its global WebSocket (undici) is stable there; Node 20
// has it only behind --experimental-websocket. All three Node clients share that runtime, so their ratios compare
// libraries, not Node versions.
const CLIENTS = [
  { id: 'ours-node', label: '@streamsocket/node', runtime: 'node24', src: 'clients/ours-node.mjs', ours: true, peer: ['ws', 'undici'] },
  { id: 'ours-node-stream', label: '@streamsocket/node (WebSocketStream API)', runtime: 'node24', src: 'clients/ours-node-stream.mjs', ours: true, peer: ['ws', 'undici'] },
  { id: 'ws', label: 'ws 8 (bufferutil)', runtime: 'node24', src: 'clients/ws.mjs' },
  { id: 'undici', label: "Node's WebSocket (undici)", runtime: 'node24', src: 'clients/undici.mjs' },
  { id: 'ours-deno', label: '@streamsocket/deno', runtime: 'deno', src: 'clients/ours-deno.mjs', ours: true, peer: ['deno-native'] },
  { id: 'deno-native', label: "Deno's WebSocket", runtime: 'deno', src: 'clients/deno-native.mjs' },
  { id: 'ours-bun', label: '@streamsocket/bun', runtime: 'bun', src: 'clients/ours-bun.mjs', ours: true, peer: ['bun-native'] },
  { id: 'bun-native', label: "Bun's WebSocket", runtime: 'bun', src: 'clients/bun-native.mjs' },
];
const WORKLOADS = [
  { id: '16B', size: 16, text: false, conns: 64, inflight: 16 },
  { id: '100B-text', size: 100, text: true, conns: 64, inflight: 16 },
  { id: '16KiB', size: 16 * 1024, text: false, conns: 16, inflight: 4 },
  { id: '1MiB', size: 1024 * 1024, text: false, conns: 4, inflight: 2 },
];
const pick = (all, list) => (list ? list.split(',').map((id) => all.find((x) => x.id === id) ?? die(`unknown: ${id}`)) : all);
function die(msg) {
  console.error(msg);
  process.exit(1);
}
if (argv.includes('--list')) {
  console.log(`clients: ${CLIENTS.map((c) => c.id).join(', ')}\nworkloads: ${WORKLOADS.map((w) => w.id).join(', ')}`);
  process.exit(0);
}
const clients = pick(CLIENTS, opt('clients'));
const workloads = pick(WORKLOADS, opt('workloads'));
const withProxy = !argv.includes('--no-proxy');
// --base DIR: a second copy of the packages' sources (DIR/packages/*/src, e.g. `git archive <commit> packages | tar -x
// -C DIR`): each of our clients also runs bundled from there, as `<id>@base`, interleaved with the rest (A/B).
const baseDir = opt('base');
if (baseDir) {
  for (const c of clients.filter((x) => x.ours)) {
    clients.push({ ...c, id: `${c.id}@base`, label: `${c.label} @ base`, base: true, peer: [...(c.peer ?? []), c.id] });
  }
}

// ---- build ---------------------------------------------------------------------------------------------------

function buildEcho() {
  mkdirSync(buildDir, { recursive: true });
  const out = join(buildDir, 'ws-echo');
  const src = join(e2e, 'ws-echo.c');
  if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs) return out;
  const r = spawnSync('gcc', ['-O2', '-Wall', '-o', out, src], { stdio: 'inherit' });
  if (r.status !== 0) die('gcc failed for ws-echo.c');
  return out;
}

async function bundle(entry, out, external = [], base = false) {
  const { build } = await import('esbuild');
  const alias = sourceAliases();
  if (base) for (const [k, v] of Object.entries(alias)) if (v.startsWith(join(root, 'packages'))) alias[k] = join(baseDir, v.slice(root.length));
  await build({
    entryPoints: [join(here, entry)], outfile: join(buildDir, out), bundle: true, format: 'esm', platform: 'node', target: 'es2022',
    alias, external: ['node:*', ...external], logLevel: 'silent',
  });
  return join(buildDir, out);
}

// ---- processes -----------------------------------------------------------------------------------------------

const live = new Set();
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}
process.on('exit', () => {
  for (const c of live) killGroup(c);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function pinned(cpu, cmd, args, env = {}) {
  const child = spawn('taskset', ['-c', cpu, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, NODE_ENV: 'production', ...env } });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function lines(stream, onLine) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

function startEcho(exe) {
  const child = pinned(SERVER_CPU, exe, []);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('ws-echo: no PORT line')), 5000);
    lines(child.stdout, (l) => {
      const m = /^PORT (\d+)/.exec(l);
      if (m) {
        clearTimeout(t);
        resolve({ child, port: Number(m[1]) });
      }
    });
  });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

async function runClient(c, file, w, port, proxy) {
  const [cmd, base] = runtimeCommand(c.runtime);
  const args = [...base, file, '--url', `ws://127.0.0.1:${port}/`, '--conns', String(w.conns), '--inflight', String(w.inflight),
    '--size', String(w.size), '--text', w.text ? '1' : '0', '--warmup', String(warmupMs), '--measure', String(measureMs),
    ...(proxy ? ['--proxy', proxy] : [])];
  // Deno's runner args include --quiet and -A; ours need nothing else. The client is pinned to its own CPU.
  const child = pinned(CLIENT_CPU, cmd, args);
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-3000);
  });
  return new Promise((resolve) => {
    let cpu0 = NaN;
    let result = null;
    const t = setTimeout(() => killGroup(child), warmupMs + measureMs + 30_000);
    lines(child.stdout, (l) => {
      if (l === 'START') cpu0 = cpuSeconds(child.pid);
      else if (l.startsWith('DONE ')) {
        const cpu1 = cpuSeconds(child.pid);
        result = JSON.parse(l.slice(5));
        result.cpu = (cpu1 - cpu0) / result.seconds;
      } else if (l.startsWith('ERROR ')) err += `\n${l}`;
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(result ?? { error: `exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

// ---- main ----------------------------------------------------------------------------------------------------

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmtRate = (x) => (!Number.isFinite(x) ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(0)}k` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0));
const fmtUs = (x) => (!Number.isFinite(x) ? '-' : x >= 1000 ? `${(x / 1000).toFixed(1)} ms` : `${x.toFixed(0)} µs`);
const fmtPct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '-');
const fmtX = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '');

async function main() {
  ensureTools();
  const echoExe = buildEcho();
  const files = new Map();
  for (const c of clients) {
    try {
      files.set(c.id, await bundle(c.src, `${c.id}.mjs`, ['ws', 'bufferutil', 'utf-8-validate'], c.base === true));
    } catch (e) {
      c.unavailable = String(e.errors?.[0]?.text ?? e).split('\n')[0];
    }
  }
  let squid = null;
  let proxyUrl = null;
  const proxyOn = withProxy && clients.some((c) => c.id === 'ours-node') && workloads.some((w) => w.id === '16KiB');
  if (proxyOn) {
    const helper = await bundle('proxy-helper.mjs', 'proxy-helper.mjs');
    const { startSquid, withCredentials } = await import(helper);
    squid = await startSquid();
    proxyUrl = withCredentials(squid.url);
  }
  const cells = []; // { client, workload, round, ...result }
  try {
    for (let r = 0; r < rounds; r++) {
      for (const w of workloads) {
        const order = clients.filter((c) => !c.unavailable);
        const rot = order.slice(r % order.length).concat(order.slice(0, r % order.length));
        const plan = rot.map((c) => ({ c, proxy: null }));
        // The proxy row: ours-node at 16 KiB through squid, right after its direct cell in the same round.
        if (proxyOn && w.id === '16KiB') plan.splice(plan.findIndex((p) => p.c.id === 'ours-node') + 1, 0, { c: clients.find((c) => c.id === 'ours-node'), proxy: proxyUrl });
        for (const { c, proxy } of plan) {
          const echo = await startEcho(echoExe);
          const res = await runClient(c, files.get(c.id), w, echo.port, proxy);
          killGroup(echo.child);
          const id = proxy ? 'ours-node-proxy' : c.id;
          cells.push({ client: id, workload: w.id, round: r, ...res });
          const shown = res.error ? `ERROR ${res.error}` : `${fmtRate(res.rate)} msg/s, p50 ${fmtUs(res.p50)}, p99 ${fmtUs(res.p99)}, client CPU ${fmtPct(res.cpu)}`;
          console.log(`[round ${r + 1}/${rounds}] ${w.id.padEnd(9)} ${id.padEnd(16)} ${shown}`);
        }
      }
    }
  } finally {
    await squid?.stop();
  }
  const med = (client, workload, k) => median(cells.filter((x) => x.client === client && x.workload === workload && !x.error).map((x) => x[k]));
  const rows = [];
  for (const w of workloads) {
    const ids = clients.filter((c) => !c.unavailable).map((c) => c.id);
    if (proxyOn && w.id === '16KiB') ids.splice(ids.indexOf('ours-node') + 1, 0, 'ours-node-proxy');
    for (const id of ids) {
      const c = clients.find((x) => x.id === id) ?? { id, label: '@streamsocket/node through squid (HTTP CONNECT)', peer: [] };
      const rate = med(id, w.id, 'rate');
      const cpu = med(id, w.id, 'cpu');
      const ratios = id === 'ours-node-proxy'
        ? [`vs direct ${fmtX(rate / med('ours-node', w.id, 'rate'))}`]
        : (c.peer ?? []).filter((p) => clients.some((x) => x.id === p)).map((p) => `vs ${p} ${fmtX(rate / med(p, w.id, 'rate'))}`);
      rows.push({ workload: w.id, client: id, label: c.label, rate, p50: med(id, w.id, 'p50'), p99: med(id, w.id, 'p99'), cpu, perCpu: rate / cpu, ratios: ratios.join(', ') });
    }
  }
  const head = '| workload | client | msg/s | p50 | p99 | client CPU | msg per client CPU-s | ratios (msg/s) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |';
  const table = rows.map((x) => `| ${x.workload} | ${x.label} | ${fmtRate(x.rate)} | ${fmtUs(x.p50)} | ${fmtUs(x.p99)} | ${fmtPct(x.cpu)} | ${fmtRate(x.perCpu)} | ${x.ratios} |`).join('\n');
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).stdout.toString().trim();
  const ver = (cmd, args) => spawnSync(cmd, args).stdout?.toString().trim().split('\n')[0] ?? '?';
  const meta = {
    commit, date: new Date().toISOString(), rounds, warmupMs, measureMs, kernel: release(), cpu: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    node: ver(runtimeCommand('node24')[0], ['--version']), deno: ver(runtimeCommand('deno')[0], ['--version']), bun: ver(runtimeCommand('bun')[0], ['--version']),
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(), base: baseDir ?? null,
  };
  const md = `${head}\n${table}\n\ncommit ${meta.commit}, ${meta.date}, ${rounds} round(s) of ${warmupMs} ms warm-up + ${measureMs} ms per cell, ${meta.cpu}, ` +
    `Node ${meta.node}, ${meta.deno}, Bun ${meta.bun}, load average at the end: ${meta.loadavg}${baseDir ? `, @base = ${baseDir}` : ""}\n`;
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'results.md'), md);
  writeFileSync(join(here, 'results', 'results.json'), JSON.stringify({ meta, cells, rows }, null, 1));
  console.log(`\n${md}`);
  const errors = cells.filter((x) => x.error);
  if (errors.length) {
    console.log(`${errors.length} cell(s) failed`);
    process.exitCode = 1;
  }
}

await main();
process.exit(process.exitCode ?? 0);
