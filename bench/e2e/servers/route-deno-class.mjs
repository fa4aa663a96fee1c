// websocketRoute on Deno.serve with a WebSocket-class handler (webSocket: true): Deno's own WebSocket carries the
// frames and each message is dispatched as a `message` event and sent back, with no streams. Compared with
// deno-native and route-deno (the stream API). Bundled by run.mjs from the packages' TypeScript sources.
import { websocketRoute } from '@streamsocket/deno';

const echo = websocketRoute({ webSocket: true, maxMessageSize: 64 * 1024 * 1024 }, (ws) => {
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (e) => ws.send(e.data);
});
Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`PORT ${port}`) }, (req) => echo.upgrade(req));
