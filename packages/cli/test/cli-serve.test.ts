// The `streamsocket` command driven as a user drives it, server side: serve --echo/--broadcast/--exec with real
// `connect` clients, close codes, shutdown, headers and subprotocols, deflate. Spawned processes, real sockets on
// 127.0.0.1; each process is bounded (see run-cli.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { ensureBuilt, run, startServer } from './run-cli.js';

ensureBuilt();

test('serve --echo + connect: stdin lines come back on stdout, clean close exits 0, events on stderr', async () => {
  const { url, server, stop } = await startServer(['--echo']);
  const c = run(['connect', url]);
  c.end('hello\nwörld 🌍\r\nlast line without newline');
  assert.is(await c.exited, 0, c.stderr());
  assert.is(c.stdout(), 'hello\nwörld 🌍\nlast line without newline\n');
  assert.is(c.stderr(), '');
  await server.waitErr(/\[#1\] closed 1000/);
  assert.match(server.stderr(), /\[#1\] open 127\.0\.0\.1:\d+ \/ \(1 connected\)/);
  assert.is(await stop(), 0);
  assert.match(server.stderr(), /shutting down/);
});

test('--binary: raw bytes out and back, unchanged', async () => {
  const { url, stop } = await startServer(['--echo', '--quiet']);
  const data = new Uint8Array(randomBytes(300_000));
  const c = run(['connect', url, '--binary', '--linger', '200ms']);
  c.end(data);
  assert.is(await c.exited, 0, c.stderr());
  const got = c.stdoutBytes();
  assert.is(got.byteLength, data.byteLength);
  assert.ok(Buffer.compare(Buffer.from(got), Buffer.from(data)) === 0, 'same bytes');
  await stop();
});

test('serve --broadcast: a message reaches every other client, not its sender', async () => {
  const { url, server, stop } = await startServer(['--broadcast', '--protocol', 'chat']);
  const a = run(['connect', url, '--protocol', 'chat', '-l', '100ms']);
  const b = run(['connect', url, '--protocol', 'chat', '-l', '100ms']);
  await server.waitErr(/\[#2\] open .*protocol chat/);
  a.send('from a\n');
  await b.waitOut('from a\n');
  b.send('from b\n');
  await a.waitOut('from b\n');
  a.end();
  b.end();
  assert.is(await a.exited, 0, a.stderr());
  assert.is(await b.exited, 0, b.stderr());
  assert.is(a.stdout(), 'from b\n');
  assert.is(b.stdout(), 'from a\n');
  await stop();
});

test('serve --exec: each connection is bridged to its own process, line by line', async () => {
  // A line-at-a-time program: `tr` alone would hold its output until its stdin ends, which is at the close.
  const { url, server, stop } = await startServer(['--exec', 'while read -r l; do printf "%s\\n" "$l" | tr a-z A-Z; done']);
  const c = run(['connect', url, '-l', '200ms']);
  c.end('make me loud\nand this\n');
  assert.is(await c.exited, 0, c.stderr());
  assert.is(c.stdout(), 'MAKE ME LOUD\nAND THIS\n');
  await server.waitErr(/process exited with status 0/);
  await stop();
});

test('a close code other than 1000 exits 1 with the code and reason', async () => {
  const { url, stop } = await startServer(['--exec', 'echo partial; exit 3', '--quiet']);
  const c = run(['connect', url]);
  assert.is(await c.exited, 1);
  assert.is(c.stdout(), 'partial\n');
  assert.is(c.stderr(), 'streamsocket: connection closed with code 1011 (internal error): process exited with status 3\n');
  await stop();
});

test('server shutdown (Ctrl-C) closes clients with 1001, which exit 1', async () => {
  const { url, server, stop } = await startServer(['--echo']);
  const c = run(['connect', url]);
  await server.waitErr(/\[#1\] open/);
  assert.is(await stop(), 0);
  assert.is(await c.exited, 1);
  assert.match(c.stderr(), /^streamsocket: connection closed with code 1001 \(going away\): server shutting down\n$/);
});

test('headers, origin and subprotocol reach the server; --exec sees the traffic', async () => {
  // The server's process prints what it reads; a header check through a subprotocol the server accepts.
  const { url, server, stop } = await startServer(['--exec', 'cat', '--protocol', 'v2', '--protocol', 'v1']);
  const c = run(['connect', url + 'room?id=7', '-p', 'v1', '-p', 'v2', '-H', 'X-Test: yes', '--origin', 'http://example.test', '-l', '200ms']);
  c.end('ping\n');
  assert.is(await c.exited, 0, c.stderr());
  assert.is(c.stdout(), 'ping\n');
  assert.match(server.stderr(), /\[#1\] open 127\.0\.0\.1:\d+ \/room\?id=7 \(protocol v2\)/);
  await stop();
});

test('--deflate on both sides negotiates permessage-deflate; --exec --binary passes raw bytes', async () => {
  const { url, server, stop } = await startServer(['--exec', 'cat', '--binary', '--deflate']);
  const c = run(['connect', url, '--deflate', '--binary', '-l', '200ms']);
  const bytes = new Uint8Array([0, 1, 2, 10, 13, 0xfe, 0xff, ...new TextEncoder().encode('compressible '.repeat(2000))]);
  c.end(bytes);
  assert.is(await c.exited, 0, c.stderr());
  assert.equal(c.stdoutBytes(), bytes, 'the bytes went through the process unchanged, newlines and all');
  assert.match(server.stderr(), /\[#1\] open .*extensions permessage-deflate/);
  await stop();
});

test.run();
