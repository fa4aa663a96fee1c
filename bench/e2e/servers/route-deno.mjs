// websocketRoute on Deno.serve (the request path: Deno.upgradeWebSocket's socket behind a WebSocketStream): each
// message read from the readable is written to the writable. Compared with deno-native (the same platform socket
// with a plain onmessage handler) to price the stream API on top. Bundled by run.mjs from the TypeScript sources.
import { websocketRoute } from '@streamsocket/deno';

const echo = websocketRoute({ maxMessageSize: 64 * 1024 * 1024 }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});
Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`PORT ${port}`) }, (req) => echo.upgrade(req));
