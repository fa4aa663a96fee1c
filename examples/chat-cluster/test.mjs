// Runs the chat on three Node processes behind one port (node:cluster) with a real redis-server between them:
// members joined through different processes hear each other; then Redis is killed and restarted, and the test
// shows what happens to a message sent while it is away (each process still delivers it to its own members;
// the others never see it) and that the room works again afterwards without anyone rejoining.
//   node examples/chat-cluster/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '@streamsocket/node';
import { ensureTools } from '../../packages/devtools/runtimes.mjs';
import { startRedis, redisServerPath } from '../../packages/devtools/redis.mjs';
import { start, wsHelpers } from '../_lib/process.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { client } = wsHelpers(connect);
if (!existsSync(redisServerPath)) ensureTools();

/** Reads messages until one satisfies `pred` (others, e.g. joins, are skipped); bounded. */
async function until(member, pred, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = JSON.parse(await member.next(Math.max(1, deadline - Date.now())));
    if (pred(m)) return m;
  }
}

/** Joins members until `n` of them are on distinct processes (the primary hands connections out in turn). */
async function membersOnDistinctWorkers(url, n) {
  const byWorker = new Map();
  const extra = [];
  for (let i = 0; i < 4 * n && byWorker.size < n; i++) {
    const m = await client(url, { protocols: ['chat.v1'] });
    const welcome = JSON.parse(await m.next());
    if (byWorker.has(welcome.worker)) extra.push(m);
    else byWorker.set(welcome.worker, Object.assign(m, { name: welcome.name, worker: welcome.worker }));
  }
  return { members: [...byWorker.values()], extra };
}

test('three processes, one port, one room through Redis; Redis away and back', async () => {
  const redis = await startRedis();
  const app = await start('node', 'server.mjs', { cwd: here, env: { REDIS_URL: redis.url, WORKERS: '3' }, ready: /chat cluster on (http:\/\/\S+)/, timeoutMs: 30_000 });
  try {
    const wsUrl = `${app.url.replace('http', 'ws')}chat`;
    const { members, extra } = await membersOnDistinctWorkers(wsUrl, 3);
    assert.is(members.length, 3, 'members on three different processes');
    const [a, b, c] = members;
    await new Promise((r) => setTimeout(r, 200)); // every process subscribed in Redis

    await a.send('hello from the first process');
    for (const m of [a, b, c]) {
      const got = await until(m, (e) => e.type === 'message');
      assert.equal([got.name, got.text], [a.name, 'hello from the first process'], `member on ${m.worker}`);
    }

    await redis.stop();
    await new Promise((r) => setTimeout(r, 300)); // the processes notice
    await b.send('while Redis is away');
    const local = await until(b, (e) => e.type === 'message');
    assert.is(local.text, 'while Redis is away', "the sender's own process still delivers it");

    await redis.start(); // same port
    // Until every process has reconnected and subscribed again, a message may not reach everyone: retry a probe.
    let probe = 0;
    const reached = async (m) => {
      for (;;) {
        const e = await until(m, (x) => x.type === 'message', 2000).catch(() => null);
        if (e === null) return false;
        if (e.text.startsWith('probe')) return true;
        assert.not.equal(e.text, 'while Redis is away', 'a message sent while Redis was away never reaches another process');
      }
    };
    const deadline = Date.now() + 15_000;
    for (;;) {
      await c.send(`probe ${++probe}`);
      const ok = await Promise.all([a, b].map(reached));
      if (ok.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error(`the room did not come back after Redis restarted\n${app.output()}`);
    }
    await a.send('back to normal');
    for (const m of [b, c]) assert.is((await until(m, (e) => e.type === 'message' && !e.text.startsWith('probe'))).text, 'back to normal');

    for (const m of [...members, ...extra]) await m.close();
  } catch (e) {
    throw new Error(`${e.stack}\n--- cluster output:\n${app.output()}`);
  } finally {
    await app.stop();
    await redis.stop();
  }
});

test.run();
