// Runs examples/hono/app.mjs for real on Node, Deno and Bun (one process each, a free loopback port) and talks to
// it over HTTP and WebSocket with @streamsocket/node's client: the same routes, middleware and handlers on each;
// only `ws.engine` differs (our codec on Node, the platform's WebSocket on Deno and Bun).
//   node examples/hono/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@streamsocket/node';
import { start, wsHelpers, ensureRuntimes } from '../_lib/process.mjs';

const { client, upgradeStatus } = wsHelpers(connect);
const here = dirname(fileURLToPath(import.meta.url));
const engine = { node: 'streamsocket', deno: 'platform', bun: 'platform' };
ensureRuntimes();

for (const runtime of ['node', 'deno', 'bun']) {
  test(`hono on ${runtime}: HTTP route, WebSocket echo, middleware refusal, a room with publish`, async () => {
    const app = await start(runtime, 'app.mjs', { cwd: here, ready: /hono on \w+: (http:\/\/\S+)/ });
    try {
      const base = app.url;
      const ws = base.replace('http', 'ws');
      assert.is(await (await fetch(base)).text(), 'hello from hono\n');

      const c = await client(`${ws}ws`, { protocols: ['echo.v1'] });
      assert.is(c.protocol, 'echo.v1');
      assert.equal(JSON.parse(await c.next()), { welcome: true, engine: engine[runtime], protocol: 'echo.v1' });
      await c.send('héllo 🌍');
      assert.is(await c.next(), 'héllo 🌍');
      const big = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);
      await c.send(big);
      const back = await c.next();
      assert.is(back.byteLength, big.byteLength);
      assert.ok(back.every((b, i) => b === big[i]), 'binary echoed unchanged');
      assert.equal(await c.close(1000, 'done'), { closeCode: 1000, reason: 'done' });

      // A plain GET on the WebSocket route: 426, not a crash. Wrong subprotocol: the route's policy refuses.
      assert.is((await fetch(`${base}ws`)).status, 426);
      assert.is(await upgradeStatus(`${ws}room`, { protocols: ['room.v1'] }), 401, 'the middleware answers before the route');

      const a = await client(`${ws}room?token=letmein`, { protocols: ['room.v1'] });
      const b = await client(`${ws}room?token=letmein`, { protocols: ['room.v1'] });
      await new Promise((r) => setTimeout(r, 100)); // both subscribed
      await a.send('from a');
      assert.is(await b.next(), 'from a');
      await b.send('from b');
      assert.is(await a.next(), 'from b', 'a gets b, and not its own message first');
      await a.close();
      await b.close();
    } catch (e) {
      throw new Error(`${e.stack}\n--- ${runtime} output:\n${app.output()}`);
    } finally {
      await app.stop();
    }
  });
}

test.run();
