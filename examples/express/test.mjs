// Runs examples/express/server.mjs for real (in this process, a free loopback port): its HTTP route, and two WebSocket
// clients (ours and ws) on its /ws route, where every message is published to everyone; an unknown path is refused.
//   node examples/express/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WS from 'ws';
import { connect } from '@streamsocket/node';
import { wsHelpers } from '../_lib/process.mjs';
import { start } from './server.mjs';

const { client, upgradeStatus } = wsHelpers(connect);

test('express: HTTP route, WebSocket route with publish to every member, unknown path refused', async () => {
  const app = await start();
  try {
    const res = await fetch(app.url);
    assert.is(res.status, 200);
    assert.match(await res.text(), /express/);
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
