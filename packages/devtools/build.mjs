// Builds every package: esbuild transpiles src/**/*.ts to dist/ (one file per module, ESM, no bundling, so
// consumers' bundlers can tree-shake), then tsc emits the .d.ts files. Packages build in dependency order because
// tsc resolves @streamsocket/* imports through the workspace links to the dependencies' dist/*.d.ts.
//
//   node packages/devtools/build.mjs [pkg ...]              build these (all when none named)
//   node packages/devtools/build.mjs --with-deps pkg ...    a package's `prepack`: these and their workspace
//                                                          dependencies, each skipped when its dist/ is newer
//                                                          than every source file (so packing them all builds once)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { listPackages, root } from './workspace.mjs';

const require = createRequire(import.meta.url);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Newest modification time (ms) of the files under `dir` (0 when it does not exist). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

/** dist/ holds a complete build (stamped when tsc finished) made after the last change to src/, package.json or tsconfig.json. */
function isFresh(pkg) {
  const stamp = join(pkg.dir, '.build-complete');
  if (!existsSync(stamp)) return false;
  const inputs = Math.max(newest(join(pkg.dir, 'src')), statSync(join(pkg.dir, 'package.json')).mtimeMs, statSync(join(pkg.dir, 'tsconfig.json')).mtimeMs);
  return statSync(stamp).mtimeMs >= inputs;
}

/** The named packages and everything they depend on in the workspace, by name. */
export function withDependencies(names) {
  const byName = new Map(listPackages().map((p) => [p.name, p]));
  const out = new Set();
  const visit = (n) => {
    if (out.has(n) || !byName.has(n)) return;
    out.add(n);
    for (const d of byName.get(n).deps) visit(d);
  };
  for (const n of names) visit(n);
  return [...out];
}

export async function buildAll({ only, types = true, ifStale = false } = {}) {
  const rebuilt = new Set();
  for (const pkg of listPackages()) {
    if (only && !only.includes(pkg.name)) continue;
    if (ifStale && isFresh(pkg) && !pkg.deps.some((d) => rebuilt.has(d))) continue;
    rebuilt.add(pkg.name);
    rmSync(join(pkg.dir, '.build-complete'), { force: true });
    const t0 = Date.now();
    rmSync(join(pkg.dir, 'dist'), { recursive: true, force: true });
    await build({
      entryPoints: walk(join(pkg.dir, 'src')),
      outdir: join(pkg.dir, 'dist'),
      outbase: join(pkg.dir, 'src'),
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      sourcemap: 'linked',
      logLevel: 'warning',
    });
    if (types) {
      execFileSync(process.execPath, [tsc, '-p', join(pkg.dir, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
      writeFileSync(join(pkg.dir, '.build-complete'), '');
    }
    console.log(`built ${pkg.json.name} in ${Date.now() - t0} ms`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const withDeps = args.includes('--with-deps');
  const names = args.filter((a) => !a.startsWith('--'));
  if (withDeps) await buildAll({ only: withDependencies(names), ifStale: true });
  else await buildAll({ only: names.length ? names : undefined });
}
void require;
