// What a connection costs the server while it is in the opening handshake, the phase a slowloris holds open:
// ServerCore.add() over in-memory channels (no sockets, so only our code is measured), 20,000 connections per case,
// each case in a fresh Node process with --expose-gc.
//
//   node bench/e2e/pending-cost.mjs                      the workspace's @streamsocket/session (built first)
//   node bench/e2e/pending-cost.mjs --base /tmp/old/dist  and, side by side, another build of it (an A/B)
//   node bench/e2e/pending-cost.mjs --base-rev c493529    the same, the base transpiled from that commit's
//                                                         packages/session/src (into packages/session/.ab-<rev>)
//
// Cases:
//   silent    connections that send nothing (the heap figure is read while they are pending)
//   partial   each sends the first two lines of a request head, then nothing
//   timeout   silent, with handshakeTimeout 300 ms: the CPU each timeout costs when it fires
//   evict     maxPendingHandshakes 100: each add() past it drops the oldest
// Figures per connection: CPU (user + system) of the add() calls and the turn after them, heap used after a full
// collection, and the CPU spent in the next 1.5 s (the timeouts firing, in "timeout" and "partial").
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const N = 20_000;
const CASES = ['silent', 'partial', 'timeout', 'evict'];

if (argv[0] === '--child') {
  await child(argv[1], argv[2]);
} else {
  const root = join(here, '..', '..');
  const built = spawnSync(process.execPath, [join(root, 'packages/devtools/build.mjs')], { stdio: 'ignore' });
  if (built.status !== 0) throw new Error('build failed: run node packages/devtools/build.mjs');
  const builds = [['workspace', join(root, 'packages/session/dist/index.js')]];
  const bi = argv.indexOf('--base');
  if (bi >= 0) builds.push(['base', resolve(argv[bi + 1], 'index.js')]);
  const ri = argv.indexOf('--base-rev');
  if (ri >= 0) builds.push([argv[ri + 1], join(transpileAt(root, argv[ri + 1]), 'index.js')]);
  console.log(`| case | build | add, µs CPU | heap per pending, KiB | after, µs CPU |`);
  console.log(`| --- | --- | ---: | ---: | ---: |`);
  for (const c of CASES) {
    for (const [name, dist] of builds) {
      const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', c, dist], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`${c} ${name}: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').pop());
      console.log(`| ${c} | ${name} | ${m.addUs.toFixed(1)} | ${m.heapKiB.toFixed(2)} | ${m.afterUs.toFixed(1)} |`);
    }
  }
}

/**
 * packages/session/src as it was at `rev`, transpiled file by file into packages/session/.ab-<rev> (inside the
 * package, so that its imports of the other packages resolve through the package's node_modules).
 */
function transpileAt(root, rev) {
  const { buildSync } = createRequire(join(root, 'package.json'))('esbuild');
  const out = join(root, 'packages/session', `.ab-${rev}`);
  const src = join(out, 'src');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  const files = execFileSync('git', ['ls-tree', '--name-only', rev, 'packages/session/src/'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  for (const f of files) writeFileSync(join(src, f.split('/').pop()), execFileSync('git', ['show', `${rev}:${f}`], { cwd: root }));
  buildSync({ entryPoints: files.map((f) => join(src, f.split('/').pop())), outdir: out, format: 'esm', platform: 'neutral', target: 'es2022', logLevel: 'error' });
  return out;
}

async function child(mode, dist) {
  const { Channel, ServerCore } = await import(dist);
  const gc = globalThis.gc;
  class Port {
    ch = null;
    write() { return true; }
    pause() {}
    resume() {}
    shutdown() { return Promise.resolve(); }
    destroy() { this.ch?.onClose(); }
  }
  const chan = () => { const p = new Port(); const c = new Channel(p); p.ch = c; return c; };
  const core = new ServerCore(
    {
      accept: { handshakeTimeout: mode === 'silent' ? 60_000 : 300 },
      maxPendingHandshakes: mode === 'evict' ? 100 : 100_000,
      maxPendingHandshakesPerAddress: 100_000,
    },
    () => {},
  );
  const chans = Array.from({ length: N }, chan);
  const partial = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n');
  const settle = async () => { gc(); await new Promise((r) => setTimeout(r, 10)); gc(); };
  await settle();
  const h0 = process.memoryUsage().heapUsed;
  let c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) core.add(chans[i], { remoteAddress: `10.0.${i & 255}.1` });
  if (mode === 'partial') for (const c of chans) c.onData(partial.slice());
  await new Promise((r) => setTimeout(r, 0));
  let c1 = process.cpuUsage(c0);
  const addUs = (c1.user + c1.system) / N;
  await settle();
  const heapKiB = (process.memoryUsage().heapUsed - h0) / N / 1024;
  c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, mode === 'silent' ? 10 : 1500));
  c1 = process.cpuUsage(c0);
  console.log(JSON.stringify({ addUs, heapKiB, afterUs: (c1.user + c1.system) / N, stats: core.stats }));
  await core.close();
  process.exit(0);
}
