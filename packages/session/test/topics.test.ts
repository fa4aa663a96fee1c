// Topics: subscribe, unsubscribe, publish with `except`, framing once, order with the subscriber's own messages,
// slow subscribers (close with 1013 or drop, counted), and permessage-deflate groups.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, channelFromStreams, connect, createPipePair, Topics, type TopicsOptions, type WebSocketStream, type AcceptOptions, type ConnectOptions } from '../src/index.js';
import { Connection } from '../src/connection.js';
import { ServerCore } from '../src/server-core.js';
import { deflateAvailable, loadZlib } from '@streamsocket/codec';
import { settle, sleep, within } from './helpers.js';

const zlib = deflateAvailable || (await loadZlib());

/** `n` server sessions in `topics`, each with its client; opened. */
async function members(topics: Topics, n: number, serverOpts: AcceptOptions = {}, clientOpts: (i: number) => ConnectOptions = () => ({}), pipeHwm?: number) {
  const out: Array<{ server: WebSocketStream; client: WebSocketStream; reader: ReadableStreamDefaultReader<string | Uint8Array>; writer: WritableStreamDefaultWriter }> = [];
  for (let i = 0; i < n; i++) {
    const [c, s] = createPipePair(pipeHwm === undefined ? {} : { highWaterMark: pipeHwm });
    const server = accept(s, serverOpts);
    server.topics = topics;
    const client = connect(c, 'ws://example.com/', clientOpts(i));
    const [so, co] = await within(Promise.all([server.opened, client.opened]));
    out.push({ server, client, reader: co.readable.getReader(), writer: so.writable.getWriter() });
  }
  return out;
}

async function read(r: ReadableStreamDefaultReader<string | Uint8Array>) {
  return (await within(r.read(), 3000, 'a message')).value;
}

test('publish reaches every subscriber of the topic but the excepted; unsubscribe and close end it', async () => {
  const topics = new Topics();
  const [a, b, c] = await members(topics, 3);
  for (const m of [a!, b!, c!]) m.server.subscribe('news');
  b!.server.subscribe('sport');
  assert.equal(b!.server.subscriptions.sort(), ['news', 'sport']);
  assert.is(topics.subscriberCount('news'), 3);
  assert.is(topics.publish('news', 'hello', { except: a!.server }), 2);
  assert.is(await read(b!.reader), 'hello');
  assert.is(await read(c!.reader), 'hello');
  assert.is(topics.publish('sport', new Uint8Array([1, 2, 3])), 1);
  assert.equal([...((await read(b!.reader)) as Uint8Array)], [1, 2, 3]);
  c!.server.unsubscribe('news');
  assert.not.ok(c!.server.isSubscribed('news'));
  assert.is(topics.publish('news', 'second'), 2);
  assert.is(await read(a!.reader), 'second', 'a was only excepted once');
  assert.is(await read(b!.reader), 'second');
  a!.client.close({ closeCode: 1000 });
  await within(a!.client.closed);
  topics.forget(a!.server);
  assert.is(topics.subscriberCount('news'), 1);
  assert.is(topics.publish('nobody-here', 'x'), 0);
  for (const m of [b!, c!]) m.client.close();
});

test('a published message is framed once: every subscriber is written the same bytes', async () => {
  const topics = new Topics();
  const ms = await members(topics, 4);
  const written: Array<readonly Uint8Array[]> = [];
  for (const m of ms) {
    m.server.subscribe('t');
    const core = m.server.core as Connection;
    const orig = core.writeFramed.bind(core);
    core.writeFramed = (frames) => {
      written.push(frames);
      return orig(frames);
    };
  }
  topics.publish('t', 'x'.repeat(300));
  assert.is(written.length, 4);
  for (const f of written) assert.ok(f === written[0], 'the same frame array');
  assert.is(written[0]![0]![0], 0x81, 'FIN + text, no RSV1');
  assert.is(written[0]![0]![1]! & 0x80, 0, 'unmasked (server frame)');
  for (const m of ms) assert.is(await read(m.reader), 'x'.repeat(300));
  for (const m of ms) m.client.close();
});

test("publish keeps its place among the subscriber's own writes", async () => {
  const topics = new Topics();
  const [m] = await members(topics, 1, {}, () => ({}), 64);
  m!.server.subscribe('t');
  const big = new Uint8Array(200_000);
  void m!.writer.write(big); // congests the small pipe: the next write waits in the writable
  void m!.writer.write('own-1');
  topics.publish('t', 'published');
  void m!.writer.write('own-2');
  const got = [];
  for (let i = 0; i < 4; i++) {
    const v = await read(m!.reader);
    got.push(typeof v === 'string' ? v : v!.byteLength);
  }
  assert.equal(got, [200_000, 'own-1', 'published', 'own-2']);
  m!.client.close();
});

async function slowCase(options: TopicsOptions) {
  const topics = new Topics({ maxPublishBacklog: 16 * 1024, ...options });
  // A tiny pipe and a client that never reads: the transport congests at once.
  const [m] = await members(topics, 1, {}, () => ({}), 1024);
  m!.server.subscribe('t');
  const msg = new Uint8Array(1024);
  for (let i = 0; i < 200; i++) topics.publish('t', msg);
  return { topics, m: m! };
}

test("a subscriber that cannot keep up, policy 'close': closed with 1013, the rest counted as dropped", async () => {
  const { topics, m } = await slowCase({});
  assert.is(topics.closedSlow, 1);
  assert.ok(topics.dropped >= 1);
  assert.ok(m.server.readyState >= 2, 'closing');
  assert.is(topics.subscriberCount('t'), 0, 'no longer subscribed');
  // The client, reading at last, gets what was written (at most the backlog) and then the 1013.
  let n = 0;
  for (;;) {
    const r = await settle(m.reader.read());
    if (!r.ok || r.value.done) break;
    n++;
  }
  assert.ok(n < 200 && n >= 1, `${n} messages arrived before the close`);
  assert.ok(n * 1024 <= 16 * 1024 + 8 * 1024, 'no more than the backlog plus the transport buffer');
  const closed = await settle(m.client.closed);
  assert.equal(closed.ok ? closed.value : closed.error, { closeCode: 1013, reason: 'subscriber too slow' });
});

test("policy 'drop': the subscriber stays, the messages over the backlog are dropped and counted", async () => {
  const { topics, m } = await slowCase({ slowSubscriber: 'drop' });
  assert.is(topics.closedSlow, 0);
  assert.ok(topics.dropped > 100, `${topics.dropped} dropped`);
  assert.is(m.server.readyState, 1);
  let n = 0;
  while (n < 200 - topics.dropped) {
    await read(m.reader);
    n++;
  }
  await sleep(20);
  topics.publish('t', 'after');
  assert.is(await read(m.reader), 'after', 'delivery resumes once it caught up');
  m.client.close();
});

test('a backplane hears publishes and first/last subscriptions, and its messages are delivered here', async () => {
  const log: string[] = [];
  let deliver!: (t: string, d: string | Uint8Array) => void;
  const topics = new Topics({
    backplane: {
      attach: (d) => void (deliver = d),
      publish: (t, d) => void log.push(`pub ${t} ${String(d)}`),
      subscribe: (t) => void log.push(`sub ${t}`),
      unsubscribe: (t) => void log.push(`unsub ${t}`),
    },
  });
  const [a, b] = await members(topics, 2);
  a!.server.subscribe('x');
  b!.server.subscribe('x');
  topics.publish('x', 'local');
  topics.publish('x', 'only here', { local: true });
  deliver('x', 'from afar');
  assert.is(await read(a!.reader), 'local');
  assert.is(await read(a!.reader), 'only here');
  assert.is(await read(a!.reader), 'from afar');
  a!.server.unsubscribe('x');
  b!.server.unsubscribe('x');
  assert.equal(log, ['sub x', 'pub x local', 'unsub x']);
  for (const m of [a!, b!]) m.client.close();
});

test("ServerCore (Deno's and Bun's serve()): sessions join its topics; clients, publish, and leaving on close", async () => {
  const core = new ServerCore<{ id: number }>({ accept: {} }, async (ws) => {
    await ws.opened;
    ws.subscribe('all');
  });
  const clients: WebSocketStream[] = [];
  for (let id = 0; id < 3; id++) {
    const [c, s] = createPipePair();
    core.add(channelFromStreams(s), { id }); // the server end as an adapter hands it over: a channel
    clients.push(connect(c, 'ws://example.com/'));
  }
  const readers = await Promise.all(clients.map(async (c) => (await within(c.opened)).readable.getReader()));
  await sleep(10);
  assert.is(core.clients.size, 3);
  assert.is(core.publish('all', 'to all'), 3);
  for (const r of readers) assert.is(await read(r), 'to all');
  clients[0]!.close({ closeCode: 1000 });
  await within(clients[0]!.closed);
  await sleep(10);
  assert.is(core.clients.size, 2);
  assert.is(core.topics.subscriberCount('all'), 2);
  await core.close();
});

if (zlib) {
  test('permessage-deflate: one compression per group without context takeover; a kept context compresses itself; no deflate gets the plain frame', async () => {
    const topics = new Topics();
    // Clients 0 and 1 ask for server_no_context_takeover (one group), 2 keeps the context, 3 has no deflate.
    const ms = await members(topics, 4, { deflate: true }, (i) => (i < 2 ? { deflate: { serverNoContextTakeover: true } } : i === 2 ? { deflate: true } : {}));
    const firstBytes: number[] = [];
    const own: number[] = [];
    ms.forEach((m, i) => {
      m.server.subscribe('t');
      const core = m.server.core as Connection;
      const orig = core.writeFramed.bind(core);
      core.writeFramed = (frames) => {
        firstBytes.push(frames[0]![0]!);
        return orig(frames);
      };
      const origMsg = core.writeMessage.bind(core);
      core.writeMessage = (data) => {
        own.push(i);
        return origMsg(data);
      };
    });
    const text = 'compressible '.repeat(500);
    topics.publish('t', text);
    topics.publish('t', 'small after'); // under the threshold: still after the compressed one for the group
    for (const m of ms) {
      assert.is(await read(m.reader), text);
      assert.is(await read(m.reader), 'small after');
    }
    const compressed = firstBytes.filter((b) => (b & 0x40) !== 0).length;
    assert.is(compressed, 2, 'the two group members got RSV1 frames');
    assert.is(firstBytes.length, 6, 'shared frames: the group (2) and the peer without deflate (1), twice');
    assert.equal(own, [2, 2], 'the peer with a kept context was encoded by its own connection');
    for (const m of ms) m.client.close();
  });

  test('a kept compression context stays in step: publishes and the subscriber\'s own messages interleaved, all inflate', async () => {
    const topics = new Topics();
    const [m] = await members(topics, 1, { deflate: true }, () => ({ deflate: true }));
    m!.server.subscribe('t');
    const big = (tag: string) => `${tag} ` + 'the same words again and again '.repeat(200);
    topics.publish('t', big('p1'));
    void m!.writer.write(big('own1'));
    topics.publish('t', 'small p2');
    topics.publish('t', big('p3'));
    void m!.writer.write('small own2');
    topics.publish('t', big('p4'));
    m!.server.close({ closeCode: 1000, reason: 'done' }); // our close frame waits for p4's compression
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const v = String(await read(m!.reader));
      got.push(v.length > 50 ? v.split(' ')[0]! : v);
    }
    assert.equal(got, ['p1', 'own1', 'small p2', 'p3', 'small own2', 'p4']);
    assert.equal(await within(m!.client.closed), { closeCode: 1000, reason: 'done' });
  });
} else {
  test.skip('permessage-deflate groups (no node:zlib here)', () => {});
}

test.run();
