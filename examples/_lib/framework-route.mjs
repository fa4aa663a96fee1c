// The test the framework examples (express, fastify, h3) share: the example's server, started in this process on a
// free loopback port, answers its HTTP route; two WebSocket clients (ours and ws) join its /ws route, where every
// message is published to everyone; an unknown path is refused with 404.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WS from 'ws';
import { wsHelpers } from './process.mjs';

/**
 * Registers and runs the test for the framework `name`, whose example exports `start()`; `connect` is the example's
 * own @streamsocket/node (this folder has no dependencies of its own; uvu and ws are the workspace root's).
 */
export function frameworkRouteTest(name, start, connect) {
  const { client, upgradeStatus } = wsHelpers(connect);
  test(`${name}: HTTP route, WebSocket route with publish to every member, unknown path refused`, async () => {
    const app = await start();
    try {
      const res = await fetch(app.url);
      assert.is(res.status, 200);
      assert.match(await res.text(), new RegExp(name));
      const ws = app.url.replace('http', 'ws');
      const a = await client(`${ws}ws`, { protocols: ['chat.v1'] });
      assert.is(a.protocol, 'chat.v1');
      const b = new WS(`${ws}ws`, ['chat.v1']);
      const heard = new Promise((resolve) => b.once('message', (d) => resolve(String(d))));
      await new Promise((r, j) => { b.once('open', r); b.once('error', j); });
      await new Promise((r) => setTimeout(r, 50));
      await a.send('hello everyone');
      assert.is(await a.next(), 'hello everyone');
      assert.is(await heard, 'hello everyone');
      assert.is(await upgradeStatus(`${ws}nowhere`), 404);
      b.close(1000);
      assert.equal(await a.close(1000, 'bye'), { closeCode: 1000, reason: 'bye' });
    } finally {
      await app.close();
    }
  });
  test.run();
}
