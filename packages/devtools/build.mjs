// Builds every package: esbuild transpiles src/**/*.ts to dist/ (one file per module, ESM, no bundling, so
// consumers' bundlers can tree-shake), then tsc emits the .d.ts files. Packages build in dependency order because
// tsc resolves @streamsocket/* imports through the workspace links to the dependencies' dist/*.d.ts.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, rmSync } from 'node:fs';
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

export async function buildAll({ only, types = true } = {}) {
  for (const pkg of listPackages()) {
    if (only && !only.includes(pkg.name)) continue;
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
    if (types) execFileSync(process.execPath, [tsc, '-p', join(pkg.dir, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
    console.log(`built @streamsocket/${pkg.name} in ${Date.now() - t0} ms`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const only = process.argv.slice(2);
  await buildAll({ only: only.length ? only : undefined });
}
void require;
