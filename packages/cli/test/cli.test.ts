// The `streamsocket` command driven as a user drives it: spawned processes, real sockets on 127.0.0.1, stdin
// written and closed, exit statuses and one-line reasons checked. Each process is bounded (see run-cli.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ensureBuilt, run, startServer, fixtures } from './run-cli.js';

ensureBuilt();

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

test('--help for the command and each subcommand; usage mistakes exit 2 with one line and a hint', async () => {
  // Independent processes: started together to keep the suite short.
  const [main, c, s, bad] = [run(['--help']), run(['connect', '--help']), run(['help', 'serve']), run(['serve', '--port', '1', '--echo', '--broadcast'])];
  assert.is(await main.exited, 0);
  assert.match(main.stdout(), /Usage: streamsocket <command>/);
  assert.is(await c.exited, 0);
  assert.match(c.stdout(), /Usage: streamsocket connect <url>/);
  assert.is(await s.exited, 0);
  assert.match(s.stdout(), /Usage: streamsocket serve --port N/);
  assert.is(await bad.exited, 2);
  assert.is(bad.stderr(), "streamsocket: --echo, --broadcast and --exec exclude one another\nRun 'streamsocket serve --help' for its options.\n");
});

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

test('a refused handshake exits 1 with its HTTP status', async () => {
  const http = createHttpServer((_req, res) => { res.writeHead(403).end('no'); });
  http.on('upgrade', (_req, socket) => { socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'); });
  const port = await listen(http);
  const c = run(['connect', `ws://127.0.0.1:${port}/x`]);
  c.end();
  assert.is(await c.exited, 1);
  assert.match(c.stderr(), /^streamsocket: handshake refused by 127\.0\.0\.1:\d+: HTTP 403 Forbidden.*\n$/);
  http.close();
});

test('nothing listening, and a server that never answers: one-line reasons', async () => {
  // Accepts and stays silent. The sockets are destroyed before close(): a socket nobody reads never sees the
  // client's FIN, so close() would wait for it forever.
  const silent = new Set<Socket>();
  const tcp = createTcpServer((s) => { silent.add(s); s.on('error', () => {}); });
  const port = await listen(tcp);
  const t0 = Date.now();
  const slow = run(['connect', `ws://127.0.0.1:${port}/`, '--timeout', '400ms']);
  assert.is(await slow.exited, 1);
  assert.ok(Date.now() - t0 < 8000, 'the timeout was honoured (process start included)');
  assert.is(slow.stderr(), `streamsocket: timed out after 400 ms connecting to ws://127.0.0.1:${port}/\n`);
  for (const s of silent) s.destroy();
  await new Promise<void>((r) => tcp.close(() => r()));
  const refused = run(['connect', `ws://127.0.0.1:${port}/`]);
  assert.is(await refused.exited, 1);
  assert.is(refused.stderr(), `streamsocket: connection refused by 127.0.0.1:${port}\n`);
});

test('wss: with a self-signed certificate: refused by default, accepted with --insecure', async () => {
  const { url, stop } = await startServer(['--echo', '--tls-cert', join(fixtures, 'cert.pem'), '--tls-key', join(fixtures, 'key.pem')]);
  assert.match(url, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
  const strict = run(['connect', url]);
  strict.end('x\n');
  assert.is(await strict.exited, 1);
  assert.match(strict.stderr(), /^streamsocket: TLS certificate of 127\.0\.0\.1:\d+ not accepted: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); --insecure skips verification\n$/);
  const c = run(['connect', url, '--insecure', '--ping-interval', '50ms', '-l', '100ms']);
  c.send('secure hello\n');
  await c.waitOut('secure hello\n');
  await new Promise((r) => setTimeout(r, 200)); // a few pings answered while idle
  c.end();
  assert.is(await c.exited, 0, c.stderr());
  assert.is(c.stdout(), 'secure hello\n');
  await stop();
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

test('Ctrl-C on connect closes with 1000 and exits 130', async () => {
  const { url, server, stop } = await startServer(['--echo']);
  const c = run(['connect', url]);
  c.send('before ctrl-c\n');
  await c.waitOut('before ctrl-c\n');
  c.kill('SIGINT');
  assert.is(await c.exited, 130);
  assert.is(c.stderr(), '');
  await server.waitErr(/\[#1\] closed 1000 \(normal closure\): interrupted/);
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
