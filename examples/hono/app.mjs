// One hono app with WebSocket routes, served on Node, Deno or Bun from this one file:
//   node examples/hono/app.mjs      deno run -A examples/hono/app.mjs      bun examples/hono/app.mjs
// The routes call `route.upgrade(c.req.raw, c.env)`: on Node, handleUpgrades() hands the upgrade's socket to our
// own codec; on Deno and Bun the platform's WebSocket carries the frames and the session presents it. The
// handlers below cannot tell the difference except through `ws.engine`, which the welcome message reports.
import { Hono } from 'hono';
import { websocketRoute } from '@streamsocket/session';

/** Echo: every message back to its sender. */
export const echo = websocketRoute({ protocols: ['echo.v1'] }, async (ws) => {
  const { readable, writable } = await ws.opened;
  const writer = writable.getWriter();
  await writer.write(JSON.stringify({ welcome: true, engine: ws.engine, protocol: ws.protocol }));
  writer.releaseLock();
  await readable.pipeTo(writable).catch(() => {});
});

/** A room: every text message goes to everyone else in it (topics: subscribe and publish). */
export const room = websocketRoute({ protocols: ['room.v1'] }, async (ws) => {
  const { readable } = await ws.opened;
  ws.subscribe('lobby');
  for await (const m of readable) room.publish('lobby', m, { except: ws });
});

export const app = new Hono();
app.get('/', (c) => c.text('hello from hono\n'));
app.get('/ws', (c) => echo.upgrade(c.req.raw, c.env));
// Middleware applies to WebSocket routes as to any other: no token, no upgrade (401 on every runtime).
app.use('/room', async (c, next) => (c.req.query('token') === 'letmein' ? next() : c.text('token required\n', 401)));
app.get('/room', (c) => room.upgrade(c.req.raw, c.env));

const hostname = '127.0.0.1';
const port = Number(globalThis.Deno?.env.get('PORT') ?? globalThis.process?.env.PORT ?? 8787);
const ready = (p, runtime) => console.log(`hono on ${runtime}: http://${hostname}:${p}/`);

if (globalThis.Deno) {
  Deno.serve({ hostname, port, onListen: ({ port: p }) => ready(p, 'deno') }, app.fetch);
} else if (globalThis.Bun) {
  const server = Bun.serve({ hostname, port, fetch: app.fetch, websocket: echo.websocket });
  ready(server.port, 'bun');
} else {
  const { serve } = await import('@hono/node-server');
  const { handleUpgrades } = await import('@streamsocket/node');
  const server = serve({ fetch: app.fetch, hostname, port }, (info) => ready(info.port, 'node'));
  handleUpgrades(server, app.fetch);
}
