// The `streamsocket` command driven as a user drives it, client side: help and usage errors, failures and their
// one-line reasons (refused handshake, silent server, closed port, untrusted certificate), Ctrl-C. Spawned
// processes, real sockets on 127.0.0.1; each process is bounded (see run-cli.ts). Server modes: cli-serve.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
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

test.run();
