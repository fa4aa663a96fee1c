// A fastify app whose HTTP server also takes WebSocket upgrades. fastify routes IncomingMessages, not Requests, so
// upgrades go to a small fetch function beside it (handleUpgrades on fastify's own server): the same route object
// and handler as in every other example.
//   node examples/fastify/server.mjs   (PORT=... to choose the port)
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { websocketRoute, handleUpgrades } from '@streamsocket/node';

export const chat = websocketRoute({ protocols: ['chat.v1'] }, async (ws) => {
  const { readable } = await ws.opened;
  ws.subscribe('chat');
  for await (const m of readable) chat.publish('chat', m);
});

export async function start({ hostname = '127.0.0.1', port = 0 } = {}) {
  const app = Fastify();
  app.get('/', async () => ({ hello: 'fastify' }));
  handleUpgrades(app.server, (request) => (new URL(request.url).pathname === '/ws' ? chat.upgrade(request) : new Response('no such route\n', { status: 404 })));
  const url = await app.listen({ host: hostname, port });
  return { url: `${url}/`, close: () => { chat.close(); app.server.closeAllConnections(); return app.close(); } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`fastify on ${url}`);
}
