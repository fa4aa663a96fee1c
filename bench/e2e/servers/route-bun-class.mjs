// websocketRoute on Bun.serve with a WebSocket-class handler (webSocket: true): Bun's own WebSocket carries the
// frames and each message it hands over is dispatched as a `message` event and sent back, with no streams.
// Compared with bun-native (the same platform socket with a plain message handler) and route-bun (the stream API).
// Bundled by run.mjs from the packages' TypeScript sources.
import { websocketRoute } from '@streamsocket/bun';

const deflate = process.argv.includes('--deflate');
const echo = websocketRoute({ webSocket: true, maxMessageSize: 64 * 1024 * 1024, ...(deflate ? { deflate: true } : {}) }, (ws) => {
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (e) => ws.send(e.data);
});
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req, srv) => echo.upgrade(req, srv), websocket: echo.websocket });
console.log(`PORT ${server.port}`);
