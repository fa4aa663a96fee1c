// A throwaway redis-server for tests: Debian's (installed by runtimes.mjs ensureTools with the other apt
// packages; this module imports nothing of the workspace, so bundled test files can use it), on a free loopback port, nothing saved to disk. stop() and start() again on the same port let a test
// take Redis away and bring it back.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export const redisServerPath = '/usr/bin/redis-server';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** True once redis-server answers PING; false on refusal, a close without an answer, or no answer within 1 s. */
const answersPing = (port) => new Promise((resolve) => {
  const s = connect({ port, host: '127.0.0.1' });
  const done = (ok) => { clearTimeout(t); s.destroy(); resolve(ok); };
  const t = setTimeout(() => done(false), 1000);
  s.once('connect', () => s.write('PING\r\n'));
  s.once('data', (d) => done(String(d).startsWith('+PONG')));
  s.once('error', () => done(false));
  s.once('close', () => done(false));
});

/** Starts redis-server; resolves with `{ port, url, stop(), start() }` once it answers PING (bounded: 10 s). */
export async function startRedis() {
  // npm test installs it first (runtimes.mjs ensureTools); a suite run alone says how to get it.
  if (!existsSync(redisServerPath)) throw new Error(`${redisServerPath} is missing: apt-get install redis-server (or run npm test once)`);
  const port = await freePort();
  let child = null;
  const start = async () => {
    child = spawn(redisServerPath, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const c = child;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL'); // abrupt, like a crash: clients see their connections reset
    await gone;
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop, start };
}
