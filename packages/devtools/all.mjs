// Every suite of the workspace: each package's own suites in Node 20 (with type checks and coverage), then the
// portable packages' suites unchanged in Node 24, Deno, Bun and headless Chromium (the proof that they are
// runtime-free). Set STREAMSOCKET_RUNTIMES=node to run only the first part while developing.
import { listPackages } from './workspace.mjs';
import { testPackage, typecheck, add, portablePackages, runScriptSuite } from './test.mjs';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './workspace.mjs';
import { ensureTools } from './runtimes.mjs';

/** Bound on one whole-workspace script suite (it packs, installs and starts several runtimes). */
const SUITE_TIMEOUT_MS = 600_000;

/** Packages under packages/ that listPackages() leaves out (none today: every one has a src/index.ts). */
function listPublishedOnly(pkgs) {
  const have = new Set(pkgs.map((p) => p.name));
  return readdirSync(join(root, 'packages'))
    .filter((n) => !have.has(n) && existsSync(join(root, 'packages', n, 'package.json')))
    .map((n) => ({ name: n, dir: join(root, 'packages', n), json: JSON.parse(readFileSync(join(root, 'packages', n, 'package.json'), 'utf8')) }));
}

export async function runAll() {
  const runtimes = (process.env.STREAMSOCKET_RUNTIMES ?? 'node,node24,deno,bun,chromium').split(',');
  let totals = { passed: 0, failed: 0, skipped: 0 };
  const pkgs = listPackages();
  // The runtimes are installed first: some Node suites (hardening, examples) also drive Deno, Bun and Chromium.
  try {
    ensureTools();
  } catch (e) {
    console.log(`✗ could not install the runtime matrix: ${e.message}`);
    totals = add(totals, { passed: 0, failed: 1, skipped: 0 });
  }
  for (const pkg of pkgs) {
    console.log(`\n${pkg.json.name} [node ${process.version}]`);
    totals = add(totals, typecheck(pkg));
    // An adapter for another runtime is type-checked here but tested only in its own runtime, below.
    const own = pkg.json.streamsocket?.runtime ?? 'node';
    if (own === 'node') totals = add(totals, await testPackage(pkg, { runtime: 'node' }));
  }
  const others = runtimes.filter((r) => r !== 'node');
  if (others.length === 0) return totals;
  const portable = pkgs.filter((p) => portablePackages.includes(p.name));
  for (const runtime of others.filter((r) => r !== 'chromium')) {
    for (const pkg of portable) {
      console.log(`\n${pkg.json.name} [${runtime}]`);
      totals = add(totals, await testPackage(pkg, { runtime, coverage: false }));
    }
    // Adapters' own suites run in their own runtime (added as the adapters land).
    // The Node adapter is proven on the newest LTS line too, not only on this machine's Node 20.
    const own = (p) => p.json.streamsocket?.runtime === runtime || (runtime === 'node24' && p.name === 'node');
    for (const pkg of pkgs.filter(own)) {
      console.log(`\n${pkg.json.name} [${runtime}]`);
      totals = add(totals, await testPackage(pkg, { runtime, coverage: false }));
    }
  }
  // Examples are run for real (their own servers, browsers, brokers): each has a test.mjs printing a uvu summary.
  const examplesDir = join(root, 'examples');
  for (const ex of readdirSync(examplesDir).sort()) {
    const script = join(examplesDir, ex, 'test.mjs');
    if (!existsSync(script)) continue;
    console.log(`\nexamples/${ex}`);
    totals = add(totals, await runScriptSuite(script));
  }
  // Script suites that test the workspace as a whole (packaging, the packed packages in a consumer's project):
  // packages/*/test/*.suite.mjs, plain Node scripts printing a uvu summary like the examples' tests.
  for (const pkg of pkgs.concat(listPublishedOnly(pkgs))) {
    const dir = join(pkg.dir, 'test');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.suite.mjs')).sort()) {
      console.log(`\n${pkg.json.name}: ${f}`);
      totals = add(totals, await runScriptSuite(join(dir, f), { timeoutMs: SUITE_TIMEOUT_MS }));
    }
  }
  if (others.includes('chromium') && portable.length) {
    console.log(`\nportable suites [chromium]`);
    const { testPackagesInBrowser } = await import('./browser.mjs');
    try {
      totals = add(totals, await testPackagesInBrowser(portable));
    } catch (e) {
      console.log(`  ✗ chromium run failed: ${e.stack ?? e}`);
      totals = add(totals, { passed: 0, failed: 1, skipped: 0 });
    }
  }
  return totals;
}
