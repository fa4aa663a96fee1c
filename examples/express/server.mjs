// An express app whose HTTP server also takes WebSocket upgrades: express never sees them (node:http emits
// 'upgrade', not 'request'), so they go to a small fetch function beside it, with the same route object and
// handler as in every other example.
//   node examples/express/server.mjs   (PORT=... to choose the port)
import { fileURLToPath } from 'node:url';
import express from 'express';
import { websocketRoute, handleUpgrades } from '@streamsocket/node';

export const chat = websocketRoute({ protocols: ['chat.v1'] }, async (ws) => {
  const { readable } = await ws.opened;
  ws.subscribe('chat');
  for await (const m of readable) chat.publish('chat', m);
});

export async function start({ hostname = '127.0.0.1', port = 0 } = {}) {
  const app = express();
  app.get('/', (_req, res) => res.send('hello from express\n'));
  const server = await new Promise((resolve) => { const s = app.listen(port, hostname, () => resolve(s)); });
  handleUpgrades(server, (request) => (new URL(request.url).pathname === '/ws' ? chat.upgrade(request) : new Response('no such route\n', { status: 404 })));
  const url = `http://${hostname}:${server.address().port}/`;
  return { url, close: () => { chat.close(); server.closeAllConnections(); return new Promise((r) => server.close(r)); } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`express on ${url}`);
}
