// Runs the edge example for real: the worker bundled with esbuild from our sources, served by workerd (npm
// `workerd`) on a free loopback port, relaying over a WebSocket it opens with cloudflare:sockets' connect() to an
// upstream server on this machine (@streamsocket/node, which answers each message in upper case).
//   node examples/edge/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { serve } from '@streamsocket/node';
import { buildWorker } from './build.mjs';
import { writeConfig } from './config.mjs';

// The platform binary itself (the package's default export), not its bin/ wrapper script: a signal sent to the
// wrapper would not reach the workerd process it starts, which would outlive the test.
const workerdBin = createRequire(import.meta.url)('workerd').default;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const canConnect = (port) => new Promise((resolve) => {
  const s = tcpConnect({ port, host: '127.0.0.1' });
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

let upstream;
let workerd;
let base;
let upstreamLog = [];

test.before(async () => {
  upstream = serve({ hostname: '127.0.0.1', port: 0, protocols: ['shout'] }, async (ws, info) => {
    upstreamLog.push(info.request.headers.get('user-agent') ?? '(no user-agent)');
    const { readable, writable } = await ws.opened;
    await readable
      .pipeThrough(new TransformStream({ transform: (m, c) => c.enqueue(typeof m === 'string' ? m.toUpperCase() : m) }))
      .pipeTo(writable)
      .catch(() => {});
  });
  await upstream.ready;
  const bundle = await buildWorker();
  const port = await freePort();
  const config = writeConfig({ port, upstream: `ws://127.0.0.1:${upstream.port}/relay`, bundle });
  const child = spawn(workerdBin, ['serve', config], { cwd: dirname(config), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let exited = false;
  const gone = new Promise((r) => child.once('exit', () => { exited = true; r(); }));
  workerd = { child, output: () => out, gone, exited: () => exited };
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) throw new Error(`workerd did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  base = `http://127.0.0.1:${port}/`;
});

test.after(async () => {
  if (workerd && !workerd.exited()) {
    workerd.child.kill('SIGTERM');
    const t = setTimeout(() => workerd.child.kill('SIGKILL'), 3000);
    await workerd.gone;
    clearTimeout(t);
  }
  await upstream?.close();
});

test('the worker relays lines through its own WebSocket (cloudflare:sockets connect + @streamsocket/session)', async () => {
  const res = await fetch(base, { method: 'POST', body: 'hello from the edge\nsecond line\nünïcödé ✓\n', signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  assert.is(res.status, 200, `${text}\n${workerd.output()}`);
  assert.is(text, 'HELLO FROM THE EDGE\nSECOND LINE\nÜNÏCÖDÉ ✓\n');
  assert.is(upstreamLog.length, 1, 'one WebSocket connection reached the upstream');
});

test('many messages, one connection each request, in order', async () => {
  const lines = Array.from({ length: 500 }, (_, i) => `message ${i} ${'x'.repeat(i % 50)}`);
  const res = await fetch(base, { method: 'POST', body: lines.join('\n') + '\n', signal: AbortSignal.timeout(10_000) });
  assert.is(res.status, 200);
  assert.equal((await res.text()).split('\n').slice(0, -1), lines.map((l) => l.toUpperCase()));
});

test('an upstream that refuses the handshake gives a 502 with the reason', async () => {
  // Same worker, other upstream: a plain TCP server that answers the upgrade with 404.
  const refusing = createServer((s) => {
    s.once('data', () => s.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    s.on('error', () => {});
  });
  await new Promise((r) => refusing.listen(0, '127.0.0.1', r));
  const bundle = await buildWorker();
  const port = await freePort();
  const config = writeConfig({ port, upstream: `ws://127.0.0.1:${refusing.address().port}/`, bundle });
  const child = spawn(workerdBin, ['serve', config], { cwd: dirname(config), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => { out += d; });
  const gone = new Promise((r) => child.once('exit', r));
  try {
    const deadline = Date.now() + 20_000;
    while (!(await canConnect(port))) {
      if (Date.now() > deadline) throw new Error(`workerd did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x\n', signal: AbortSignal.timeout(10_000) });
    assert.is(res.status, 502);
    const why = await res.text();
    assert.match(why, /upstream WebSocket failed: .*404/, why);
  } finally {
    child.kill('SIGTERM');
    await gone;
    refusing.close();
  }
});

test.run();
