// Entry point of README's two commands (`npm start`, `npm test`). Uses nothing but Node.js so that it runs on a
// fresh clone: it installs the workspace with the pinned pnpm (through npx: no global install), builds every
// package, then runs the demo or every test suite. `npm test` ends with one line "N passed, M failed" summing all
// suites of all runtimes, and exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './workspace.mjs';

const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

export function install() {
  // --frozen-lockfile: a fresh machine gets exactly the committed lockfile, never a silently re-resolved one.
  run('npx', ['-y', `pnpm@${pnpmVersion}`, 'install', '--frozen-lockfile', '--reporter=append-only'], {
    env: { ...process.env, npm_config_loglevel: 'warn' },
  });
}

const task = process.argv[2] ?? 'test';
install();
const { buildAll } = await import('./build.mjs');
await buildAll();
if (task === 'build') process.exit(0);
if (task === 'start') {
  const { main } = await import('./demo.mjs');
  await main();
} else if (task === 'test') {
  const { runAll } = await import('./all.mjs');
  const totals = await runAll();
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  process.exit(totals.failed ? 1 : 0);
} else {
  console.error(`unknown task ${task}`);
  process.exit(2);
}
