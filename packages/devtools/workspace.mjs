// Shared knowledge about the workspace: which packages exist, their order, where things live.
// Plain Node.js with no dependencies, so that bootstrap.mjs can use it before anything is installed.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every package under packages/ that has a src/index.ts, in dependency order (dependencies first). */
export function listPackages() {
  const dir = join(root, 'packages');
  const pkgs = new Map();
  for (const name of readdirSync(dir)) {
    const pj = join(dir, name, 'package.json');
    if (!existsSync(pj) || !existsSync(join(dir, name, 'src', 'index.ts'))) continue;
    const json = JSON.parse(readFileSync(pj, 'utf8'));
    const deps = Object.keys({ ...json.dependencies, ...json.peerDependencies })
      .filter((d) => d.startsWith('@streamsocket/'))
      .map((d) => d.slice('@streamsocket/'.length));
    pkgs.set(name, { name, dir: join(dir, name), json, deps });
  }
  const ordered = [];
  const seen = new Set();
  const visit = (n) => {
    if (seen.has(n) || !pkgs.has(n)) return;
    seen.add(n);
    for (const d of pkgs.get(n).deps) visit(d);
    ordered.push(pkgs.get(n));
  };
  for (const n of [...pkgs.keys()].sort()) visit(n);
  return ordered;
}

/** esbuild alias map so tests and bundles use the packages' TypeScript sources directly. */
export function sourceAliases() {
  const alias = {};
  for (const p of listPackages()) alias[`@streamsocket/${p.name}`] = join(p.dir, 'src', 'index.ts');
  // @web-std/stream's "import" entry reaches the runtime's classes through require('stream/web'), which a bundled
  // ES module cannot do (esbuild's require shim throws and the package falls back to a polyfill). Its "browser"
  // entry reads globalThis, which in Node 18+, Deno, Bun, browsers and workerd holds the very same classes.
  alias['@web-std/stream'] = webStdStreamBrowserEntry();
  return alias;
}

function webStdStreamBrowserEntry() {
  const pnpmDir = join(root, 'node_modules', '.pnpm');
  const dir = readdirSync(pnpmDir).find((d) => d.startsWith('@web-std+stream@'));
  if (!dir) throw new Error('@web-std/stream is not installed');
  return join(pnpmDir, dir, 'node_modules', '@web-std', 'stream', 'src', 'lib.js');
}
