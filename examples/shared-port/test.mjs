// Runs examples/shared-port on Deno and Bun for real: one port, HTTP routes and a WebSocket route side by side.
// Checked with fetch and our Node client: the page, a JSON route, a 404, the echo (text, 1 MiB binary, 1000
// messages in order), and a clean close.
//   node examples/shared-port/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@streamsocket/node';
import { start, wsHelpers, ensureRuntimes } from '../_lib/process.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { client } = wsHelpers(connect);
ensureRuntimes();

for (const [runtime, file] of [['deno', 'deno.ts'], ['bun', 'bun.ts']]) {
  test(`${runtime}: HTTP routes and WebSockets on one port`, async () => {
    const app = await start(runtime, file, { cwd: here, ready: new RegExp(`${runtime} on (http://\\S+)`) });
    try {
      const page = await fetch(app.url);
      assert.is(page.headers.get('content-type'), 'text/html');
      assert.match(await page.text(), /one port/);
      assert.is((await (await fetch(`${app.url}api/time`)).json()).runtime, runtime);
      assert.is((await fetch(`${app.url}nope`)).status, 404);

      const c = await client(`${app.url.replace('http', 'ws')}ws`, { protocols: ['echo.v1'] });
      assert.is(c.protocol, 'echo.v1');
      await c.send('ünïcödé');
      assert.is(await c.next(), 'ünïcödé');
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
      await c.send(big);
      const back = await c.next(10_000);
      assert.is(back.byteLength, big.byteLength);
      assert.ok(back.every((b, i) => b === big[i]));
      for (let i = 0; i < 1000; i++) void c.send(`m${i}`);
      for (let i = 0; i < 1000; i++) assert.is(await c.next(), `m${i}`);
      assert.equal(await c.close(1000, 'done'), { closeCode: 1000, reason: 'done' });
    } catch (e) {
      throw new Error(`${e.stack}\n--- ${runtime} output:\n${app.output()}`);
    } finally {
      await app.stop();
    }
  });
}

test.run();
