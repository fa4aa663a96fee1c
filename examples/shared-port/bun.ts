// Bun.serve answering plain HTTP and WebSockets on one port: the fetch handler routes by path, /ws goes to a
// websocketRoute (Bun's server.upgrade; the route's `websocket` handlers go to Bun.serve).
//   bun examples/shared-port/bun.ts   (PORT=... to choose the port)
import { websocketRoute } from '@streamsocket/bun';

const echo = websocketRoute({ protocols: ['echo.v1'] }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 8000),
  fetch(request, srv) {
    const { pathname } = new URL(request.url);
    if (pathname === '/ws') return echo.upgrade(request, srv);
    if (pathname === '/api/time') return Response.json({ now: Date.now(), runtime: 'bun' });
    if (pathname === '/') return new Response('<!doctype html><title>shared port</title><p>HTTP and WebSockets on one port</p>', { headers: { 'content-type': 'text/html' } });
    return new Response('not found\n', { status: 404 });
  },
  websocket: echo.websocket,
});
console.log(`bun on http://127.0.0.1:${server.port}/`);
process.on('SIGTERM', () => {
  echo.close();
  void server.stop().then(() => process.exit(0));
});
