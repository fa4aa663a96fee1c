/**
 * Attacks as attackers run them, against a server process of each runtime (issue 15): the server is
 * test/fixtures/attack-server.mjs bundled for Node, Deno or Bun (`serve()` with its defaults unless a test sets
 * options), the attacker is this test bundle re-executed as a second Node process (STREAMSOCKET_ATTACK_ROLE),
 * driving raw sockets bound to several loopback addresses (127.0.0.2, 127.0.0.3, ... stand for many hosts; Linux
 * routes all of 127/8 to lo). Both get their descriptor limit raised with `ulimit -n` (to the hard limit at most;
 * CI runners allow 65536). The parent reads the server's RSS and descriptors from /proc/<pid> and its counters
 * from its STATS lines, and drives the attacker through stdin/stdout lines.
 */
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { createRequire, builtinModules } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export type Runtime = 'node' | 'deno' | 'bun';
export const root = process.cwd(); // the runner starts test processes in the repository root
export const MiB = 1024 * 1024;

/**
 * V8's young generation capped at 2 x 2 MiB, as the soak runs its server (soak.node.test.ts, hardening README
 * "Soak memory"): otherwise it grows to 2 x 16 MiB under load and is kept when idle.
 */
const BINS: Record<Runtime, { bin: string; args: string[] }> = {
  node: { bin: process.execPath, args: ['--expose-gc', '--max-semi-space-size=2'] },
  deno: { bin: join(root, '.tools/node_modules/@deno/linux-x64-glibc/deno'), args: ['run', '-A', '--no-prompt', '--quiet', '--v8-flags=--expose-gc,--max-semi-space-size=2'] },
  bun: { bin: join(root, '.tools/node_modules/@oven/bun-linux-x64/bin/bun'), args: ['run'] },
};

/**
 * The server's malloc, as the soak's: Debian's jemalloc preloaded for Node and Deno (both use the C library's
 * malloc, whose main arena keeps freed memory below live chunks; see the hardening README, "Soak memory"), so
 * that "RSS back to baseline" measures what the server holds, not glibc's fragmentation. Bun links its own
 * allocator (mimalloc): nothing to preload. Installed with apt-get when missing, as CI has root.
 */
export function serverEnv(runtime: Runtime): Record<string, string> {
  if (runtime === 'bun') return {};
  return { LD_PRELOAD: ensureJemalloc(), MALLOC_CONF: 'background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0,narenas:1,tcache:false' };
}

export function ensureJemalloc(): string {
  const candidates = ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'];
  const found = (): string | undefined => candidates.find((f) => existsSync(f));
  if (found()) return found()!;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'libjemalloc2'], { stdio: 'inherit', env });
  const f = found();
  if (!f) throw new Error('libjemalloc2 is missing and apt-get could not install it (needs root)');
  return f;
}

export function runtimeAvailable(r: Runtime): boolean {
  return existsSync(BINS[r].bin);
}

/** The descriptor limit every process here asks for (the hard limit caps it). */
const NOFILE = 65536;
const raiseLimit = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n $(ulimit -Hn)`;

function aliases(runtime: Runtime): Record<string, string> {
  const a: Record<string, string> = {};
  for (const name of readdirSync(join(root, 'packages'))) {
    if (existsSync(join(root, 'packages', name, 'src', 'index.ts'))) a[`@streamsocket/${name}`] = join(root, 'packages', name, 'src', 'index.ts');
  }
  if (runtime !== 'node') a['@streamsocket/deno'] = join(root, 'packages', runtime, 'src', 'index.ts');
  else a['@streamsocket/deno'] = join(root, 'packages', 'node', 'src', 'index.ts');
  const pnpm = join(root, 'node_modules', '.pnpm');
  const dir = readdirSync(pnpm).find((d) => d.startsWith('@web-std+stream@'))!;
  a['@web-std/stream'] = join(pnpm, dir, 'node_modules', '@web-std', 'stream', 'src', 'lib.js');
  return a;
}

/** Bundles a test file for Node (workspace packages from source), e.g. to run another suite's client role. */
export async function bundleTest(file: string, name: string): Promise<string> {
  const esbuild = createRequire(join(root, 'package.json'))('esbuild') as typeof import('esbuild');
  const dir = join(root, 'packages', 'hardening', '.test-build', 'runtimes');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  await esbuild.build({
    entryPoints: [join(root, 'packages', 'hardening', 'test', file)],
    outfile: out, bundle: true, format: 'esm', platform: 'node', target: 'es2022', logLevel: 'error',
    alias: aliases('node'), external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
    banner: { js: "import { createRequire as __ssCreateRequire } from 'node:module'; const require = __ssCreateRequire(import.meta.url);" },
  });
  return out;
}

/** Anonymous resident memory of a process (heap, malloc, mmaps: what connections allocate), from /proc. */
export function rssAnon(pid: number): number {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function bundle(runtime: Runtime, fixture: string): Promise<string> {
  const esbuild = createRequire(join(root, 'package.json'))('esbuild') as typeof import('esbuild');
  const dir = join(root, 'packages', 'hardening', '.test-build', 'runtimes');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${runtime}-${fixture.replace(/\.mjs$/, '')}.mjs`);
  await esbuild.build({
    entryPoints: [join(root, 'packages', 'hardening', 'test', 'fixtures', fixture)],
    outfile: out, bundle: true, format: 'esm', platform: 'node', target: 'es2022', logLevel: 'error',
    alias: aliases(runtime), external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
  });
  return out;
}

export interface ServerStats {
  pending: number;
  connections: number;
  handled: number;
  timers: number;
  admitted: number;
  evicted: number;
  evictedPerAddress: number;
  refusedPerAddress: number;
  handshakeTimeouts: number;
  tlsHandshakeTimeouts: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  gc?: boolean;
}

export interface ServerProc {
  proc: ChildProcess;
  pid: number;
  port: number;
  /** The latest STATS line. */
  stats(): ServerStats;
  /** Full GC in the server, then its stats. */
  gc(): Promise<ServerStats>;
  rss(): number;
  hwm(): number;
  /** CPU seconds (user + system) the server used so far. */
  cpu(): number;
  fds(): number;
  /** Closes the server and waits for the process to exit (killed after 8 s). */
  stop(): Promise<void>;
}

/**
 * Waits up to `maxMs` for a memory reading (`read`: RSS or anonymous RSS) to come back within `tolerance` of `base`,
 * after one full GC, polling every 500 ms without forcing more collections; then collects once more and reads again.
 * Why wait: Deno's V8 keeps the heap pages a burst of connections used and returns them about 10 s after the burst
 * (measured on Deno 2.9.6 after 20,000 connections: anonymous RSS at +151 MiB for 9 s, then at +3.5 MiB), and a
 * loop of forced collections that stops once two readings agree reads the plateau before that. A reading still
 * over the tolerance after `maxMs` is what the caller asserts against. `ms`: how long it took.
 */
export async function settleMemory(
  server: ServerProc, read: () => number, base: number, tolerance: number, maxMs = 30_000,
): Promise<{ value: number; ms: number; stats: ServerStats }> {
  const t0 = Date.now();
  await server.gc();
  while (read() - base > tolerance && Date.now() - t0 < maxMs) await sleep(500);
  const stats = await server.gc();
  return { value: read(), ms: Date.now() - t0, stats };
}

/** Starts the attack server in `runtime` with `opts` (serve() options, JSON). */
export async function startServer(runtime: Runtime, opts: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<ServerProc> {
  const script = await bundle(runtime, 'attack-server.mjs');
  const { bin, args } = BINS[runtime];
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = `${raiseLimit}; exec ${[bin, ...args, script, JSON.stringify(opts)].map(quote).join(' ')}`;
  const proc = spawn('sh', ['-c', cmd], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_V8_COVERAGE: '', ...env } });
  let last: ServerStats | null = null;
  let gcWaiter: ((s: ServerStats) => void) | null = null;
  const port = await within(new Promise<number>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith('STATS ')) {
        last = JSON.parse(l.slice(6)) as ServerStats;
        if (last.gc && gcWaiter) {
          gcWaiter(last);
          gcWaiter = null;
        }
      } else {
        const m = /^READY (\d+)/.exec(l);
        if (m) resolve(Number(m[1]));
      }
    });
    proc.once('exit', (c) => reject(new Error(`${runtime} server exited ${c}`)));
  }), 30_000, `${runtime} server start`);
  const pid = proc.pid!;
  const status = (key: string): number => {
    try {
      const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  await until(() => last !== null, 5000, 'first stats');
  return {
    proc, pid, port,
    stats: () => last!,
    gc: () => {
      const p = new Promise<ServerStats>((r) => (gcWaiter = r));
      proc.stdin!.write('gc\n');
      return within(p, 10_000, 'server gc');
    },
    rss: () => status('VmRSS'),
    cpu: () => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100/s on Linux)
      } catch {
        return 0;
      }
    },
    hwm: () => status('VmHWM'),
    fds: () => {
      try {
        return readdirSync(`/proc/${pid}/fd`).length;
      } catch {
        return -1;
      }
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.stdin!.write('exit\n');
      const t = setTimeout(() => proc.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---- a child process of this bundle (attacker, clients) -------------------------------------------------------

export interface Child {
  proc: ChildProcess;
  /** Resolves with the next line `{ type }` (JSON after the prefix) of that type. */
  next(type: string, ms: number): Promise<Record<string, unknown>>;
  send(line: string): void;
  kill(): void;
}

export const ROLE = process.env.STREAMSOCKET_ATTACK_ROLE;

/**
 * Re-executes this test bundle as `role` with a raised descriptor limit; `config` arrives as JSON in the env.
 * `nice` lowers its CPU priority below the server's: a real attacker does not take the server's CPU (it runs on
 * other machines), and on a shared 2-core machine it otherwise would.
 */
export function spawnRole(role: string, config: object, nice = 0): Child {
  const script = process.argv[1]!;
  const cmd = `${raiseLimit}; exec ${nice ? `nice -n ${nice} ` : ''}"${process.execPath}" "${script}"`;
  const proc = spawn('sh', ['-c', cmd], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, STREAMSOCKET_ATTACK_ROLE: role, STREAMSOCKET_ATTACK_CONFIG: JSON.stringify(config), NODE_V8_COVERAGE: '' },
  });
  const queue: Array<Record<string, unknown>> = [];
  const waiters: Array<{ type: string; resolve: (o: Record<string, unknown>) => void }> = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    if (!l.startsWith('ATTACK ')) return;
    const o = JSON.parse(l.slice(7)) as Record<string, unknown>;
    const w = waiters.findIndex((x) => x.type === o.type);
    if (w >= 0) waiters.splice(w, 1)[0]!.resolve(o);
    else queue.push(o);
  });
  return {
    proc,
    next: (type, ms) => {
      const i = queue.findIndex((o) => o.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
      return within(new Promise((resolve) => waiters.push({ type, resolve })), ms, `${role} '${type}'`);
    },
    send: (line) => void proc.stdin!.write(`${line}\n`),
    kill: () => void proc.kill('SIGKILL'),
  };
}

/** In a child: one line to the parent. */
export const tell = (o: Record<string, unknown>): void => void process.stdout.write(`ATTACK ${JSON.stringify(o)}\n`);
/** In a child: resolves when the parent sends `line`. */
export function heard(line: string): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (l) => {
      if (l === line) {
        rl.close();
        resolve();
      }
    });
  });
}
export function config<T>(): T {
  return JSON.parse(process.env.STREAMSOCKET_ATTACK_CONFIG ?? '{}') as T;
}

// ---- raw sockets -----------------------------------------------------------------------------------------------

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(10);
  }
}

export const HEAD = (port: number): string =>
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
/** A masked client frame with a payload under 126 bytes. */
export function masked(opcode: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  MASK.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ MASK[i & 3]!;
  return out;
}

export interface Served {
  ok: boolean;
  /** ms from connect() to the echo of its message (the client is served). */
  servedMs: number;
  /** ms from connect() to the 101. */
  openedMs: number;
  error?: string;
}

/**
 * One well-behaved client: connect from `localAddress`, upgrade, send a text message, wait for its echo, close
 * cleanly. Resolves (never rejects) with its timings; gives up after `limitMs`.
 */
export function goodClient(port: number, localAddress: string, id: number, limitMs = 5000, secure = false): Promise<Served> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let openedMs = -1;
    let servedMs = -1;
    let buf: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const msg = Buffer.from(`hello ${id}`);
    // wss: a TLS client (self-signed test certificate: not verified); the clock includes its TLS handshake.
    // tls.connect() takes net.connect()'s options too (localAddress among them); @types/node does not list them.
    const tlsOptions: tls.ConnectionOptions & { localAddress: string } = { port, host: '127.0.0.1', localAddress, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] };
    const s = secure ? tls.connect(tlsOptions) : net.connect({ port, host: '127.0.0.1', localAddress });
    const finish = (ok: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const r: Served = { ok, servedMs, openedMs };
      if (error !== undefined) r.error = error;
      resolve(r);
    };
    const timer = setTimeout(() => finish(false, `not served within ${limitMs} ms (opened ${openedMs.toFixed(0)} ms)`), limitMs);
    s.setNoDelay(true);
    s.on(secure ? 'secureConnect' : 'connect', () => s.write(HEAD(port)));
    s.on('error', (e) => finish(false, e.message));
    s.on('close', () => finish(servedMs >= 0, servedMs >= 0 ? undefined : `closed before served (opened ${openedMs.toFixed(0)} ms, ${buf.subarray(0, 40).toString('latin1')})`));
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      if (!upgraded) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        if (buf.subarray(0, 12).toString('latin1') !== 'HTTP/1.1 101') return finish(false, buf.subarray(0, i).toString('latin1'));
        upgraded = true;
        openedMs = performance.now() - t0;
        buf = buf.subarray(i + 4);
        s.write(masked(1, msg));
      }
      while (buf.length >= 2) {
        const n = buf[1]! & 127;
        if (buf.length < 2 + n) return;
        const op = buf[0]! & 15;
        const payload = buf.subarray(2, 2 + n);
        buf = buf.subarray(2 + n);
        if (op === 1 && servedMs < 0) {
          if (!payload.equals(msg)) return finish(false, `echo mismatch: ${payload.toString()}`);
          servedMs = performance.now() - t0;
          s.write(masked(8, Buffer.from([0x03, 0xe8])));
        } else if (op === 8) {
          s.end();
          finish(servedMs >= 0, servedMs >= 0 ? undefined : 'closed before the echo');
        }
      }
    });
  });
}

/** A throwaway self-signed certificate for 127.0.0.1 (openssl CLI, as tls.node.test.ts). */
export function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ss-attack-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
