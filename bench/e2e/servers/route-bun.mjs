// websocketRoute on Bun.serve (the request path: Bun's own WebSocket carries the frames, the session presents it as
// a WebSocketStream): each message read from the readable is written to the writable. Compared with bun-native
// (the same platform socket with a plain message handler) to price the stream API on top.
// Bundled by run.mjs from the packages' TypeScript sources.
import { websocketRoute } from '@streamsocket/bun';

const deflate = process.argv.includes('--deflate');
const echo = websocketRoute({ maxMessageSize: 64 * 1024 * 1024, ...(deflate ? { deflate: true } : {}) }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req, srv) => echo.upgrade(req, srv), websocket: echo.websocket });
console.log(`PORT ${server.port}`);
