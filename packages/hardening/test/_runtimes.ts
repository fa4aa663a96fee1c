/**
 * Shared by the hardening suites that attack the Deno and Bun adapters (not a test file): the server is
 * test/fixtures/runtime-server.mjs bundled for each runtime and run in it, talking to this Node process over
 * loopback. It prints "READY <port>" once listening.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { within } from './_net.js';

const root = process.cwd(); // the runner starts test processes in the repository root
export const RUNTIMES = {
  deno: { bin: join(root, '.tools/node_modules/@deno/linux-x64-glibc/deno'), args: ['run', '-A', '--no-prompt', '--quiet'] },
  bun: { bin: join(root, '.tools/node_modules/@oven/bun-linux-x64/bin/bun'), args: ['run'] },
} as const;


function aliases(adapter: 'deno' | 'bun'): Record<string, string> {
  const a: Record<string, string> = {};
  for (const name of readdirSync(join(root, 'packages'))) {
    if (existsSync(join(root, 'packages', name, 'src', 'index.ts'))) a[`@streamsocket/${name}`] = join(root, 'packages', name, 'src', 'index.ts');
  }
  a['@streamsocket/deno'] = join(root, 'packages', adapter, 'src', 'index.ts');
  // As the devtools runner does: @web-std/stream's browser entry reads the runtime's own stream classes.
  const pnpm = join(root, 'node_modules', '.pnpm');
  const dir = readdirSync(pnpm).find((d) => d.startsWith('@web-std+stream@'))!;
  a['@web-std/stream'] = join(pnpm, dir, 'node_modules', '@web-std', 'stream', 'src', 'lib.js');
  return a;
}

async function bundle(adapter: 'deno' | 'bun'): Promise<string> {
  const esbuild = createRequire(join(root, 'package.json'))('esbuild') as typeof import('esbuild');
  const dir = join(root, 'packages', 'hardening', '.test-build', 'runtimes');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${adapter}-server.mjs`);
  await esbuild.build({
    entryPoints: [join(root, 'packages', 'hardening', 'test', 'fixtures', 'runtime-server.mjs')],
    outfile: out, bundle: true, format: 'esm', platform: 'node', target: 'es2022', logLevel: 'error',
    alias: aliases(adapter), external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
  });
  return out;
}

export interface Server { proc: ChildProcess; port: number; out: string[]; stop(): void }
export async function start(runtime: 'deno' | 'bun', opts: Record<string, unknown>): Promise<Server> {
  const script = await bundle(runtime);
  const r = RUNTIMES[runtime];
  const proc = spawn(r.bin, [...r.args, script, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out: string[] = [];
  let partial = '';
  const port = await within(new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        out.push(l);
        const m = /^READY (\d+)/.exec(l);
        if (m) resolve(Number(m[1]));
      }
    });
    proc.once('exit', (c) => reject(new Error(`${runtime} server exited ${c}`)));
  }), 20_000, `${runtime} server start`);
  return { proc, port, out, stop: () => void proc.kill('SIGKILL') };
}

