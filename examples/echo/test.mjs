// Runs the echo example for real in Node, Deno and Bun (each its own process, on a free loopback port) and talks
// to it with @streamsocket/node's client: text, binary, a large fragmented message, and a clean close.
//   node examples/echo/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@streamsocket/node';
import { runtimeCommand, ensureTools } from '../../packages/devtools/runtimes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = { node: 'node.mjs', deno: 'deno.ts', bun: 'bun.ts' };

/** Starts one runtime's echo server; resolves with its URL and a stop function. Bounded: 20 s to print the URL. */
function start(runtime) {
  const [cmd, args] = runtimeCommand(runtime);
  const child = spawn(cmd, [...args, scripts[runtime]], { cwd: here, env: { ...process.env, PORT: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`${runtime}: no URL after 20 s:\n${out}`)); }, 20_000);
    const check = () => {
      const m = /echo server on (ws:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], stop, output: () => out }); }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${runtime} exited (${code}) before listening:\n${out}`)); });
  });
}

async function roundTrip(url) {
  const ws = connect(url, { connectTimeout: 5000 });
  const { readable, writable } = await ws.opened;
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
  await writer.write('hello');
  await writer.write('héllo wörld 🌍');
  await writer.write(new Uint8Array([0, 1, 2, 255]));
  void writer.write(big);
  const got = [];
  for (let i = 0; i < 4; i++) got.push((await reader.read()).value);
  ws.close({ closeCode: 1000, reason: 'done' });
  const closed = await ws.closed;
  return { got, big, closed };
}

for (const runtime of ['node', 'deno', 'bun']) {
  test(`echo server on ${runtime}: text, binary, 1 MiB, clean close`, async () => {
    const server = await start(runtime);
    try {
      const { got, big, closed } = await roundTrip(server.url);
      assert.is(got[0], 'hello');
      assert.is(got[1], 'héllo wörld 🌍');
      assert.equal([...got[2]], [0, 1, 2, 255]);
      assert.is(got[3].byteLength, big.byteLength);
      assert.ok(got[3].every((b, i) => b === big[i]), '1 MiB echoed unchanged');
      assert.equal(closed, { closeCode: 1000, reason: 'done' });
    } finally {
      await server.stop();
    }
  });
}

// README.md's quick start: two programs importing only `streamsocket`, each run as written in Node, Deno and Bun
// (the package's exports conditions pick each runtime's adapter).
const quickstarts = {
  streams: [/^hello$/m, /closeCode: 1000,\s*reason: ["']bye["']/],
  websocket: [/^SHOUT$/m],
};
const doc = readFileSync(join(here, '..', '..', 'README.md'), 'utf8');
for (const [name, expect] of Object.entries(quickstarts)) {
  for (const runtime of ['node', 'deno', 'bun']) {
    test(`README.md: the ${name} quick start runs as written in ${runtime}`, async () => {
      const m = new RegExp(`<!-- quickstart:${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(doc);
      assert.ok(m, `a quickstart:${name} block`);
      assert.match(m[1], /from 'streamsocket';/, 'it imports streamsocket');
      const lines = m[1].trimEnd().split('\n');
      assert.ok(lines.length <= 25, `short (${lines.length} lines)`);
      const file = `.quickstart-${name}-${runtime}.mjs`;
      const path = join(here, file);
      writeFileSync(path, m[1]);
      try {
        const [cmd, args] = runtimeCommand(runtime);
        // Plain output: Deno colours console.log when FORCE_COLOR is set at all (the test runner sets it to 0).
        const env = { ...process.env, NO_COLOR: '1' };
        delete env.FORCE_COLOR;
        const r = spawnSync(cmd, [...args, file], { cwd: here, encoding: 'utf8', timeout: 20_000, env });
        assert.is(r.status, 0, `${runtime} exited ${r.status}: ${r.stdout}${r.stderr}`);
        const stdout = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
        for (const re of expect) assert.match(stdout, re, stdout);
      } finally {
        rmSync(path, { force: true });
      }
    });
  }
}

const bins = ['deno', 'bun'].map((r) => runtimeCommand(r)[0]);
if (!bins.every((b) => existsSync(b))) ensureTools(); // Deno and Bun live in .tools/ (installed on first use)
test.run();

