/**
 * RedisBackplane against a real redis-server (Debian's, on a free loopback port): two Topics registries with a
 * backplane each stand for two processes; sessions are real (in-memory pipes). Redis is killed and restarted on
 * the same port to show what survives (subscriptions) and what does not (messages published meanwhile).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair, Topics, type WebSocketStream } from '@streamsocket/session';
import { createClient } from 'redis';
// @ts-expect-error: plain ES module without types
import { startRedis } from '../../devtools/redis.mjs';
import { RedisBackplane } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function within<T>(p: Promise<T>, ms = 5000, what = 'operation'): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what} did not settle in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(25);
  }
}

/** A subscriber session in `topics` and the reader of its client end. */
async function member(topics: Topics, topic: string) {
  const [c, s] = createPipePair();
  const server: WebSocketStream = accept(s);
  server.topics = topics;
  const client = connect(c, 'ws://example.com/');
  const [, co] = await within(Promise.all([server.opened, client.opened]));
  server.subscribe(topic);
  const reader = co.readable.getReader();
  return { server, client, next: async (ms = 3000) => (await within(reader.read(), ms, 'a message')).value };
}

let redis: { url: string; stop(): Promise<void>; start(): Promise<void> };
test.before(async () => {
  redis = await startRedis();
});
test.after(async () => {
  await redis.stop();
});

/** How many Redis subscribers the channel has, asked from a third connection. */
async function numsub(channel: string): Promise<number> {
  const c = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
  try {
    await within(c.connect(), 2000, 'numsub connect');
    const r = (await within(c.sendCommand(['PUBSUB', 'NUMSUB', channel]), 2000, 'PUBSUB NUMSUB')) as unknown[];
    return Number(r[1]);
  } finally {
    if (c.isOpen) c.destroy();
  }
}

test('a publish in one process reaches subscribers in the other, once, text and binary', async () => {
  const bpA = new RedisBackplane({ url: redis.url });
  const bpB = new RedisBackplane({ url: redis.url });
  await within(Promise.all([bpA.ready, bpB.ready]));
  const A = new Topics({ backplane: bpA });
  const B = new Topics({ backplane: bpB });
  const a = await member(A, 'chat');
  const b = await member(B, 'chat');
  await until(async () => (await numsub('streamsocket:chat')) === 2, 5000, 'both subscribed in Redis');
  assert.is(A.publish('chat', 'hello from A'), 1, 'one local subscriber');
  assert.is(await b.next(), 'hello from A');
  assert.is(await a.next(), 'hello from A');
  B.publish('chat', new Uint8Array([0, 1, 255]));
  assert.equal([...((await a.next()) as Uint8Array)], [0, 1, 255]);
  assert.equal([...((await b.next()) as Uint8Array)], [0, 1, 255]);
  await sleep(100);
  assert.is(bpA.received, 1, 'A got only B\'s message (its own is not echoed back)');
  assert.is(bpB.received, 1);
  // The last local subscriber leaving unsubscribes the process from the channel.
  a.server.unsubscribe('chat');
  await until(async () => (await numsub('streamsocket:chat')) === 1, 5000, 'A unsubscribed in Redis');
  for (const m of [a, b]) m.client.close();
  await Promise.all([bpA.close(), bpB.close()]);
});

test('Redis goes away and comes back: subscriptions survive; messages published meanwhile are dropped and counted', async () => {
  const bpA = new RedisBackplane({ url: redis.url, maxReconnectDelay: 200 });
  const bpB = new RedisBackplane({ url: redis.url, maxReconnectDelay: 200 });
  await within(Promise.all([bpA.ready, bpB.ready]));
  try {
    const A = new Topics({ backplane: bpA });
    const B = new Topics({ backplane: bpB });
    const b = await member(B, 'news');
    await until(async () => (await numsub('streamsocket:news')) === 1, 5000, 'B subscribed');
    A.publish('news', 'before');
    assert.is(await b.next(), 'before');

    await within(redis.stop(), 5000, 'redis stop');
    await until(() => !bpA.connected && !bpB.connected, 5000, 'both see Redis gone');
    A.publish('news', 'while away');
    assert.is(bpA.dropped, 1, 'dropped at once, not queued');

    await within(redis.start(), 15_000, 'redis start'); // same port, empty: no subscription is left on the server side
    await until(() => bpA.connected && bpB.connected, 10_000, 'both reconnected');
    await until(async () => (await numsub('streamsocket:news')) === 1, 5000, 'B subscribed again by itself');
    A.publish('news', 'after');
    assert.is(await b.next(), 'after', 'the next message after "before" is "after": the one in between is gone');
    b.client.close();
  } finally {
    // Always: a backplane left open keeps reconnecting, and the process would never end.
    await within(Promise.all([bpA.close(), bpB.close()]), 5000, 'backplanes closed');
  }
});

test.run();
