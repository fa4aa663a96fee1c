// Runs the worker for real: bundled with esbuild from our sources, served by workerd (npm `workerd`) on a free
// loopback port, and talked to with @streamsocket/node's client: the HTTP route, the echo route (the platform's
// WebSocketPair behind the WebSocketStream API), topics and their limit in a Worker, and refusals.
//   node examples/worker-route/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { connect } from '@streamsocket/node';
import { wsHelpers } from '../_lib/process.mjs';
import { buildWorker, writeConfig } from './build.mjs';

const { client, upgradeStatus } = wsHelpers(connect);
// The platform binary itself, not the bin/ wrapper (a signal to the wrapper would not reach workerd).
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

let workerd;
let base;

test.before(async () => {
  const bundle = await buildWorker();
  const port = await freePort();
  const config = writeConfig({ port, bundle });
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
  base = `127.0.0.1:${port}`;
});

test.after(async () => {
  if (workerd && !workerd.exited()) {
    workerd.child.kill('SIGTERM');
    const t = setTimeout(() => workerd.child.kill('SIGKILL'), 3000);
    await workerd.gone;
    clearTimeout(t);
  }
});

test('HTTP route and WebSocket echo in the worker (engine: platform)', async () => {
  assert.is(await (await fetch(`http://${base}/`)).text(), 'a Worker with WebSocket routes\n');
  const c = await client(`ws://${base}/echo`, { protocols: ['echo.v1'] });
  assert.is(c.protocol, 'echo.v1');
  assert.is(await c.next(), 'engine: platform');
  await c.send('héllo from node');
  assert.is(await c.next(), 'héllo from node');
  const bin = new Uint8Array(100_000).map((_, i) => i & 0xff);
  await c.send(bin);
  const back = await c.next();
  assert.is(back.byteLength, bin.byteLength);
  assert.ok(back.every((b, i) => b === bin[i]));
  for (let i = 0; i < 300; i++) void c.send(`m${i}`);
  for (let i = 0; i < 300; i++) assert.is(await c.next(), `m${i}`);
  assert.equal(await c.close(1000, 'done'), { closeCode: 1000, reason: 'done' });
});

test("topics in a Worker: a publish from one request's connection reaches no other request's (workerd's I/O isolation)", async () => {
  const a = await client(`ws://${base}/room`);
  const b = await client(`ws://${base}/room`);
  await new Promise((r) => setTimeout(r, 100));
  await a.send('from a');
  assert.is(await a.next(), 'reached 0 of 1', 'b is subscribed, and out of reach');
  await b.send('from b');
  assert.is(await b.next(), 'reached 0 of 1', 'b is unharmed by the failed attempt');
  for (const x of [a, b]) assert.equal(await x.close(), { closeCode: 1000, reason: '' });
});

test('refusals come from the route: plain GET 426, unknown path 404', async () => {
  assert.is((await fetch(`http://${base}/echo`)).status, 426);
  assert.is(await upgradeStatus(`ws://${base}/nowhere`), 404);
});

test.run();
