/**
 * Topics on serve(): ws.subscribe, server.publish with except, server.clients; a subscriber that stops reading
 * over real TCP is closed with 1013 once its backlog passes maxPublishBacklog, while the others keep receiving.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { serve, connect, type WebSocketStream } from '../src/index.js';
import { within } from './helpers.js';

const load = createRequire(import.meta.url);
const WS = (load('ws') as typeof import('ws')).WebSocket;

test('publish reaches every subscriber but the excepted; clients is the set of open sessions', async () => {
  const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
    await ws.opened;
    ws.subscribe('news');
  });
  await server.ready;
  try {
    const a = connect(`${server.url}/`, { headers: { 'x-who': 'a' } });
    const b = new WS(`${server.url}/`);
    const { readable } = await within(a.opened);
    await new Promise((r) => b.once('open', r));
    await new Promise((r) => setTimeout(r, 50));
    assert.is(server.clients.size, 2);
    assert.is(server.topics.subscriberCount('news'), 2);
    const heard = new Promise<string>((r) => b.once('message', (d) => r(String(d))));
    assert.is(server.publish('news', 'breaking'), 2);
    assert.is((await within(readable.getReader().read())).value, 'breaking');
    assert.is(await within(heard), 'breaking');
    const aSession = [...server.clients].find((s) => s.request?.headers.get('x-who') === 'a') as WebSocketStream;
    assert.ok(aSession, "a's session is among the clients");
    const heard2 = new Promise<string>((r) => b.once('message', (d) => r(String(d))));
    assert.is(server.publish('news', 'not for a', { except: aSession }), 1);
    assert.is(await within(heard2), 'not for a');
    b.close();
    a.close({ closeCode: 1000 });
    await within(a.closed);
    await new Promise((r) => setTimeout(r, 50));
    assert.is(server.topics.subscriberCount('news'), 0, 'closed sessions leave their topics');
  } finally {
    await server.close();
  }
});

test('a subscriber that stops reading is closed with 1013 past maxPublishBacklog; the others get everything', async () => {
  const server = serve({ hostname: '127.0.0.1', port: 0, topics: { maxPublishBacklog: 256 * 1024 } }, async (ws) => {
    await ws.opened;
    ws.subscribe('feed');
  });
  await server.ready;
  try {
    const slow = new WS(`${server.url}/`);
    const fast = connect(`${server.url}/`);
    await new Promise((r) => slow.once('open', r));
    const slowClosed = new Promise<number>((r) => slow.once('close', (code) => r(code)));
    const { readable } = await within(fast.opened);
    await new Promise((r) => setTimeout(r, 50));
    (slow as unknown as { _socket: { pause(): void } })._socket.pause(); // stops reading: its TCP window fills
    const reader = readable.getReader();
    const msg = new Uint8Array(64 * 1024);
    let received = 0;
    const total = 200; // 12.5 MiB: far beyond the kernel buffers plus the 256 KiB backlog
    for (let i = 0; i < total; i++) {
      server.publish('feed', msg);
      // Keep the fast one drained, so only the slow one falls behind.
      while (received < i) {
        await reader.read();
        received++;
      }
      await new Promise((r) => setImmediate(r));
    }
    while (received < total) {
      await within(reader.read());
      received++;
    }
    assert.is(server.topics.closedSlow, 1);
    assert.ok(server.topics.dropped >= 1);
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    assert.is(await within(slowClosed, 10_000), 1013);
    fast.close({ closeCode: 1000 });
    await within(fast.closed);
  } finally {
    await server.close();
  }
});

test.run();
