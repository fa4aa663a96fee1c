// Deno.serve answering plain HTTP and WebSockets on one port: the fetch handler routes by path, and /ws goes to a
// websocketRoute (the platform's WebSocket, presented as a WebSocketStream).
//   deno run -A examples/shared-port/deno.ts   (PORT=... to choose the port)
import { websocketRoute } from '@streamsocket/deno';

const echo = websocketRoute({ protocols: ['echo.v1'] }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});

const server = Deno.serve(
  { hostname: '127.0.0.1', port: Number(Deno.env.get('PORT') ?? 8000), onListen: ({ port }) => console.log(`deno on http://127.0.0.1:${port}/`) },
  (request, info) => {
    const { pathname } = new URL(request.url);
    // `info` gives the route the client's address (info.clientAddress, maxConnectionsPerAddress).
    if (pathname === '/ws') return echo.upgrade(request, info);
    if (pathname === '/api/time') return Response.json({ now: Date.now(), runtime: 'deno' });
    if (pathname === '/') return new Response('<!doctype html><title>shared port</title><p>HTTP and WebSockets on one port</p>', { headers: { 'content-type': 'text/html' } });
    return new Response('not found\n', { status: 404 });
  },
);
Deno.addSignalListener('SIGTERM', () => {
  echo.close();
  void server.shutdown().then(() => Deno.exit(0));
});
