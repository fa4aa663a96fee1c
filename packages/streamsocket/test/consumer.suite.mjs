// The packages as a user gets them: every published package packed (`pnpm pack`), the tarballs installed with
// plain npm into a new project outside the workspace, and in that project one program that imports nothing but
// `streamsocket` echoes a text and a binary message and closes with 1000, in: Node (ES module), Node (CommonJS
// require), Node 24, Deno (npm: specifiers resolved from the project's node_modules), Bun, workerd (an esbuild
// bundle with the workerd condition, over cloudflare:sockets) and headless Chromium (an esbuild bundle with the
// browser condition, over the page's WebSocket); plus a TypeScript check of a file using the typed events
// (moduleResolution node16 and bundler, and nodenext from a CommonJS file). Fixtures: test/consumer/. Run by `npm test`; alone:
//   node packages/streamsocket/test/consumer.suite.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, symlinkSync, mkdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { packAll } from '../../devtools/pack.mjs';
import { root } from '../../devtools/workspace.mjs';
import { runtimeCommand, ensureTools } from '../../devtools/runtimes.mjs';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'consumer');
const RUN_TIMEOUT_MS = 30_000;
const expected = { text: 'héllo', binary: [1, 2, 255], closed: { closeCode: 1000, reason: 'bye' } };

let project;
let packDir;

/** Runs a command in the project; resolves { status, out }. Bounded by RUN_TIMEOUT_MS. */
function run(cmd, args, opts = {}) {
  const env = { ...process.env, NO_COLOR: '1', ...opts.env };
  delete env.FORCE_COLOR;
  // npm_config_* from an outer `npm test` would point npm at the workspace; the project is a user's.
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  const r = spawnSync(cmd, args, { cwd: project, encoding: 'utf8', timeout: opts.timeout ?? RUN_TIMEOUT_MS, env });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`, stdout: r.stdout ?? '' };
}

/** The JSON line an echo program printed. */
function result(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `a JSON result line in:\n${stdout}`);
  return JSON.parse(line);
}

function assertEcho(r, runtime) {
  assert.is(r.runtime, runtime, `the ${runtime} entry was resolved`);
  assert.is(r.text, expected.text);
  assert.equal(r.binary, expected.binary);
  assert.equal(r.closed, expected.closed);
}

/** Starts the installed package's echo server (server.mjs) in Node; resolves { url, stop }. */
function startServer() {
  const child = spawn(process.execPath, ['server.mjs'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const gone = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`server: no URL after 15 s:\n${out}`)); }, 15_000);
    child.stdout.on('data', () => {
      const m = /listening (ws:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: `${m[1]}/`, stop }); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${out}`)); });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

test.before(() => {
  ensureTools(); // Node 24, Deno, Bun, Chromium (installed on first use, as for every suite)
  const packed = packAll();
  packDir = packed.dest;
  // A project in the system's temporary directory: nothing of the workspace above it to resolve from.
  project = mkdtempSync(join(tmpdir(), 'streamsocket-consumer-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  cpSync(fixtures, project, { recursive: true });
  const tarballs = ['@streamsocket/handshake', '@streamsocket/codec', '@streamsocket/session', '@streamsocket/node', '@streamsocket/deno', '@streamsocket/bun', 'streamsocket']
    .map((n) => packed.tarballs.get(n));
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { timeout: 180_000 });
  if (r.status !== 0) throw new Error(`npm install of the tarballs failed:\n${r.out}`);
});

test.after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
  if (packDir) rmSync(packDir, { recursive: true, force: true });
});

test('npm installed the packed tarballs, not links into the workspace', () => {
  const pj = JSON.parse(readFileSync(join(project, 'node_modules', 'streamsocket', 'package.json'), 'utf8'));
  assert.is(pj.name, 'streamsocket');
  assert.ok(existsSync(join(project, 'node_modules', 'streamsocket', 'dist', 'index.js')));
  assert.ok(existsSync(join(project, 'node_modules', '@streamsocket', 'session', 'dist', 'index.js')));
  const deps = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).dependencies;
  assert.ok(Object.values(deps).every((v) => v.startsWith('file:') && v.endsWith('.tgz')), JSON.stringify(deps));
});

test('Node (ES module): import { serve, connect } from "streamsocket"', () => {
  const r = run(process.execPath, ['echo.mjs']);
  assert.is(r.status, 0, r.out);
  assertEcho(result(r.stdout), 'node');
});

test(`Node ${process.version} (CommonJS): require("streamsocket")`, () => {
  const r = run(process.execPath, ['echo.cjs']);
  assert.is(r.status, 0, r.out);
  assert.not.match(r.out, /ExperimentalWarning/, 'no warning on require(esm)');
  assertEcho(result(r.stdout), 'node');
});

test('Node 24: ES module and CommonJS', () => {
  const [node24] = runtimeCommand('node24');
  for (const f of ['echo.mjs', 'echo.cjs']) {
    const r = run(node24, [f]);
    assert.is(r.status, 0, `${f}: ${r.out}`);
    assertEcho(result(r.stdout), 'node');
  }
});

test('Deno: npm:streamsocket resolved from the project node_modules (deno condition)', () => {
  // The same program, with the npm: specifier Deno users write.
  const src = readFileSync(join(project, 'echo.mjs'), 'utf8').replace("from 'streamsocket'", "from 'npm:streamsocket'");
  writeFileSync(join(project, 'echo-deno.mjs'), src);
  const [deno] = runtimeCommand('deno');
  const r = run(deno, ['run', '-A', '--no-prompt', '--quiet', '--node-modules-dir=manual', 'echo-deno.mjs'], { env: { DENO_NO_UPDATE_CHECK: '1' } });
  assert.is(r.status, 0, r.out);
  assertEcho(result(r.stdout), 'deno');
});

test('Bun: import from "streamsocket" (bun condition)', () => {
  const [bun] = runtimeCommand('bun');
  const r = run(bun, ['run', 'echo.mjs']);
  assert.is(r.status, 0, r.out);
  assertEcho(result(r.stdout), 'bun');
});

for (const [name, compilerOptions, file] of [
  ['node16', { module: 'node16', moduleResolution: 'node16', lib: ['ES2022'], types: ['node'] }, 'typed.ts'],
  ['bundler', { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] }, 'typed.ts'],
  ['nodenext, from CommonJS', { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022'], types: ['node'] }, 'typed-cjs.cts'],
]) {
  test(`TypeScript (moduleResolution ${name}): typed events and WebSocketStream type-check, no skipLibCheck`, () => {
    // @types/node for the node16 project, as a Node user has it (linked from the workspace: no registry fetch).
    const typesNode = join(project, 'node_modules', '@types', 'node');
    if (!existsSync(typesNode)) {
      mkdirSync(dirname(typesNode), { recursive: true });
      symlinkSync(join(root, 'node_modules', '@types', 'node'), typesNode);
    }
    const cfg = `tsconfig.${name.split(',')[0]}.json`;
    writeFileSync(join(project, cfg), JSON.stringify({
      compilerOptions: { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, exactOptionalPropertyTypes: true, ...compilerOptions },
      files: [file],
    }, null, 2));
    const r = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cfg]);
    assert.is(r.status, 0, r.out);
  });
}

test('workerd: an esbuild bundle (workerd condition) connects over cloudflare:sockets', async () => {
  const server = await startServer();
  const outdir = join(project, '.workerd');
  mkdirSync(outdir, { recursive: true });
  let child;
  try {
    await build({
      entryPoints: [join(project, 'worker.mjs')],
      outfile: join(outdir, 'worker.js'),
      absWorkingDir: project,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker'],
      target: 'es2022',
      external: ['cloudflare:sockets', 'node:*'],
      logLevel: 'error',
    });
    const port = await freePort();
    writeFileSync(join(outdir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .main), (name = "internet", network = (allow = ["local"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const main :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2025-09-01",
  bindings = [ (name = "UPSTREAM", text = ${JSON.stringify(server.url)}) ],
);
`);
    // workerd is the workspace's pinned one (examples/edge); the platform binary itself, so signals reach it.
    const workerd = createRequire(join(root, 'examples', 'edge', 'package.json'))('workerd').default;
    child = spawn(workerd, ['serve', 'config.capnp'], { cwd: outdir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const deadline = Date.now() + 20_000;
    let res;
    for (;;) {
      try {
        res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
        break;
      } catch (e) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`workerd did not answer: ${e}\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const body = await res.text();
    assert.is(res.status, 200, `${body}\n${out}`);
    assertEcho(JSON.parse(body), 'workerd');
  } finally {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
    await server.stop();
  }
});

test('Chromium: an esbuild bundle (browser condition) connects over the page\'s WebSocket', async () => {
  const server = await startServer();
  const bundle = join(project, '.browser', 'page.js');
  await build({
    entryPoints: [join(project, 'page.mjs')],
    outfile: bundle,
    absWorkingDir: project,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['node:*'],
    logLevel: 'error',
  });
  const http = createServer((req, res) => {
    if (req.url.startsWith('/page.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(readFileSync(bundle));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>');
    }
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const { launchChromium } = await import('../../devtools/browser.mjs');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    let out = '';
    page.on('console', (m) => { out += `${m.text()}\n`; });
    page.on('pageerror', (e) => { out += `pageerror ${e.message}\n`; });
    await page.goto(`http://127.0.0.1:${http.address().port}/?ws=${encodeURIComponent(server.url)}`);
    const deadline = Date.now() + 20_000;
    while (!/^(result|failed|pageerror) /m.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const m = /^result (.*)$/m.exec(out);
    assert.ok(m, out || 'no output from the page');
    assertEcho(JSON.parse(m[1]), 'browser');
  } finally {
    await browser.close();
    http.close();
    await server.stop();
  }
});

test.run();
