// Packs every published package of the workspace as `pnpm pack` does for a release (each package's `prepack`
// builds it and its workspace dependencies first, skipping those whose dist/ is already fresh), and checks each
// tarball with publint and @arethetypeswrong/cli. Used by the packaging and consumer suites; also a command:
//
//   node packages/devtools/pack.mjs [destination]     → prints one tarball path per line
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { root } from './workspace.mjs';

const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];

/** Every package under packages/ that is published: not private. `{ name, dir, json }`, npm name in json.name. */
export function publishedPackages() {
  const dir = join(root, 'packages');
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    let json;
    try {
      json = JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (!json.private) out.push({ name, dir: join(dir, name), json });
  }
  return out;
}

/** Runs pnpm (the pinned version, through npx as bootstrap.mjs does) in the workspace root. */
export function pnpm(args, opts = {}) {
  return spawnSync('npx', ['-y', `pnpm@${pnpmVersion}`, ...args], { cwd: root, encoding: 'utf8', ...opts });
}

/**
 * Packs every published package into `dest` (a fresh temporary directory by default). Returns
 * `{ dest, tarballs: Map<npm name, path> }`; throws with pnpm's output when packing fails.
 */
export function packAll(dest = mkdtempSync(join(tmpdir(), 'streamsocket-pack-'))) {
  const pkgs = publishedPackages();
  const filters = pkgs.flatMap((p) => ['--filter', p.json.name]);
  const r = pnpm(['-r', ...filters, 'pack', '--pack-destination', dest], { timeout: 300_000 });
  if (r.status !== 0) throw new Error(`pnpm pack failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  const tarballs = new Map();
  for (const p of pkgs) {
    const file = `${p.json.name.replace(/^@/, '').replace('/', '-')}-${p.json.version}.tgz`;
    tarballs.set(p.json.name, join(dest, file));
  }
  const missing = [...tarballs.values()].filter((f) => !readdirSync(dest).includes(f.slice(dest.length + 1)));
  if (missing.length) throw new Error(`pnpm pack made no ${missing.join(', ')}:\n${r.stdout}`);
  return { dest, tarballs };
}

/** Lists a tarball's files (paths inside `package/`). */
export function tarballFiles(tgz) {
  return execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}

/** Reads a tarball's package.json. */
export function tarballManifest(tgz) {
  return JSON.parse(execFileSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' }));
}

/** publint's messages (errors, warnings and suggestions, strict) for one tarball, formatted; [] when clean. */
export async function publintTarball(tgz) {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const buf = readFileSync(tgz);
  const tarball = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
  return messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
}

/**
 * attw on one tarball. One rule is ignored, on purpose: `cjs-resolves-to-esm`. The packages are ES modules only,
 * and `require()` of them works on Node 20.19+ (require(esm)), as it type-checks from CommonJS under TypeScript's
 * `module: nodenext` (the consumer suite proves both, with plain npm): attw reports every ES-module-only package
 * under that rule, whatever the Node and TypeScript versions. Every other rule (false CJS/ESM, missing or untyped
 * exports, internal resolution errors, ...) fails the check.
 */
export function attwTarball(tgz) {
  const attw = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
  const r = spawnSync(process.execPath, [attw, tgz, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { tarballs } = packAll(process.argv[2]);
  for (const t of tarballs.values()) console.log(t);
}
