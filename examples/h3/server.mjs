// An h3 (v2) app on node:http: its routes answer HTTP, and its /ws route upgrades. h3 is fetch-based, so the app's
// own `fetch` handles the upgrade Requests too (handleUpgrades), with its router and middleware.
//   node examples/h3/server.mjs   (PORT=... to choose the port)
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { H3, toNodeHandler } from 'h3';
import { websocketRoute, handleUpgrades } from '@streamsocket/node';

/** Everyone on /ws hears every message (topics); the sender hears its own too. */
export const chat = websocketRoute({ protocols: ['chat.v1'] }, async (ws) => {
  const { readable } = await ws.opened;
  ws.subscribe('chat');
  for await (const m of readable) chat.publish('chat', m);
});

export const app = new H3()
  .get('/', () => 'hello from h3\n')
  .get('/ws', (event) => chat.upgrade(event.req));

export async function start({ hostname = '127.0.0.1', port = 0 } = {}) {
  const server = createServer(toNodeHandler(app));
  handleUpgrades(server, (request) => app.fetch(request));
  await new Promise((r) => server.listen(port, hostname, r));
  const url = `http://${hostname}:${server.address().port}/`;
  return { url, server, close: () => { chat.close(); server.closeAllConnections(); return new Promise((r) => server.close(r)); } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`h3 on ${url}`);
}
