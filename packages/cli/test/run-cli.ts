/**
 * Test helpers that use the `streamsocket` command the way a person does: real processes (bin/streamsocket.js),
 * real sockets, stdin written and closed, stdout/stderr read, exit status checked. Every process is killed after
 * a bound, so a hang is a failure with output, never a stuck suite.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('workspace root not found');
    dir = up;
  }
  return dir;
}

export const root = findRoot();
export const bin = join(root, 'packages', 'cli', 'bin', 'streamsocket.js');
export const fixtures = join(root, 'packages', 'cli', 'test', 'fixtures');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/**
 * The command runs the built dist/ (as an installed package would); `npm test` builds everything first. Run
 * alone, this suite builds what is missing (with declarations, like the workspace build, so the type checks of
 * other packages keep working) and rebuilds the cli's own JavaScript when its sources are newer. It never
 * rebuilds another package just because it is stale: their owners' builds do that.
 */
export function ensureBuilt(): void {
  const built = (p: string): string => join(root, 'packages', p, 'dist', 'index.js');
  const missing = ['handshake', 'codec', 'session', 'node'].filter((p) => !existsSync(built(p)));
  const cliStale = !existsSync(built('cli')) || newest(join(root, 'packages', 'cli', 'src')) > statSync(built('cli')).mtimeMs;
  const jobs: Array<[string[], boolean]> = [];
  if (missing.length) jobs.push([missing, true]);
  if (cliStale) jobs.push([['cli'], false]);
  for (const [only, types] of jobs) {
    const script = `const m = await import(${JSON.stringify(join(root, 'packages', 'devtools', 'build.mjs'))}); await m.buildAll({ only: ${JSON.stringify(only)}, types: ${types} });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build of ${only.join(', ')} failed:\n${r.stdout}\n${r.stderr}`);
  }
}

export interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stdoutBytes(): Uint8Array;
  stderr(): string;
  /** Resolves with the exit status (the process is SIGKILLed after `timeoutMs`, status then -1). */
  exited: Promise<number>;
  /** Resolves with the first stderr line matching `re` (rejects if the process exits first or after `ms`). */
  waitErr(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Resolves once stdout contains `text`. */
  waitOut(text: string, ms?: number): Promise<void>;
  send(text: string): void;
  end(data?: string | Uint8Array): void;
  kill(signal?: NodeJS.Signals): void;
}

export function run(args: string[], { timeoutMs = 30_000 } = {}): Run {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  let done = false;
  const listeners = new Set<() => void>();
  const poke = (): void => { for (const l of [...listeners]) l(); };
  child.stdout.on('data', (d: Buffer) => { out.push(d); poke(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); poke(); });
  child.stdin.on('error', () => {}); // EPIPE when the command exited before reading all of its input
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code) => { clearTimeout(timer); done = true; poke(); resolve(code ?? -1); });
  });
  const waitFor = <T>(check: () => T | null, what: string, ms: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => { listeners.delete(l); reject(new Error(`timed out waiting for ${what}; stderr: ${err}`)); }, ms);
      const l = (): void => {
        const v = check();
        if (v !== null) { clearTimeout(t); listeners.delete(l); resolve(v); }
        else if (done) { clearTimeout(t); listeners.delete(l); reject(new Error(`exited before ${what}; stderr: ${err}`)); }
      };
      listeners.add(l);
      l();
    });
  const stdoutBytes = (): Uint8Array => new Uint8Array(Buffer.concat(out));
  return {
    child,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stdoutBytes,
    stderr: () => err,
    exited,
    waitErr: (re, ms = 15_000) => waitFor(() => re.exec(err), `stderr ${re}`, ms),
    waitOut: (text, ms = 15_000) => waitFor(() => (Buffer.concat(out).toString('utf8').includes(text) ? true : null), `stdout '${text}'`, ms).then(() => {}),
    send: (text) => { child.stdin.write(text); },
    end: (data) => { if (data !== undefined) child.stdin.end(data); else child.stdin.end(); },
    kill: (signal = 'SIGTERM') => { child.kill(signal); },
  };
}

/** Starts `streamsocket serve ...` and resolves with its URL once it listens. */
export async function startServer(args: string[]): Promise<{ url: string; server: Run; stop(): Promise<number> }> {
  const server = run(['serve', '--port', '0', ...args], { timeoutMs: 60_000 });
  const m = await server.waitErr(/listening on (\S+)/);
  return {
    url: m[1]!,
    server,
    stop: async () => { server.kill('SIGINT'); return server.exited; },
  };
}
