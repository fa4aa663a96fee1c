// Node-only: measures what an idle open session costs in heap. Run alone:
//   node packages/devtools/test.mjs session --filter memory
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { accept, connect, createPipePair, type WebSocketStream } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
  return process.memoryUsage().heapUsed;
}

/** Pairs: 2 x N = 2,000 sessions. */
const N = 1000;

test(`idle connection cost: ${2 * N} open in-memory sessions`, async () => {
  // Warm up with a quarter round (JIT code, engine-internal tables sized for N
  // objects) so that only per-connection memory is counted below.
  {
    const warm: WebSocketStream[] = [];
    for (let i = 0; i < N / 4; i++) {
      const [c, s] = createPipePair();
      warm.push(accept(s), connect(c, 'ws://example.com/'));
    }
    await Promise.all(warm.map((s) => s.opened));
    for (let i = 1; i < warm.length; i += 2) warm[i]!.close();
    await Promise.all(warm.map((s) => s.closed));
  }

  const base = await heap();
  const pipes: unknown[] = [];
  for (let i = 0; i < N; i++) pipes.push(createPipePair());
  const withPipes = await heap();
  const sessions: WebSocketStream[] = [];
  for (let i = 0; i < N; i++) {
    const [c, s] = pipes[i] as ReturnType<typeof createPipePair>;
    sessions.push(accept(s), connect(c, 'ws://example.com/'));
  }
  await Promise.all(sessions.map((s) => s.opened));
  // Let the handshake buffers and promises settle.
  await new Promise((r) => setTimeout(r, 20));
  const withSessions = await heap();

  const pipeBytes = (withPipes - base) / N;
  const sessionBytes = (withSessions - withPipes) / (2 * N);
  console.error(`  heap per in-memory pipe pair: ${Math.round(pipeBytes)} B`);
  console.error(`  heap per idle open session (one end, excluding the pipe): ${Math.round(sessionBytes)} B`);
  assert.ok(sessionBytes < 24 * 1024, `an idle session should stay small (got ${Math.round(sessionBytes)} B)`);

  for (let i = 1; i < sessions.length; i += 2) sessions[i]!.close();
  await Promise.all(sessions.map((s) => s.closed));
  sessions.length = 0;
  pipes.length = 0;
  await new Promise((r) => setTimeout(r, 20));
  const after = await heap();
  const leaked = (after - base) / N;
  console.error(`  heap left per closed pair once unreferenced: ${Math.round(leaked)} B`);
  // A retained session would cost >= 12 KB; what remains is the heap's own noise.
  assert.ok(leaked < 4096, 'closed sessions are collectable (no timer, listener or cache keeps them)');
});

test.run();
