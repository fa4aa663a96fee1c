// @streamsocket/node echo server written against the WebSocket class (serve({ webSocket: true })): each `message`
// event's data is sent back. The event API takes messages from the session as they are decoded, with no streams
// (packages/session/README.md); compared with streamsocket-node (the stream API) and ws.
// Bundled by run.mjs from the package's TypeScript sources. `--deflate`: accept permessage-deflate.
import { serve } from '@streamsocket/node';

const deflate = process.argv.includes('--deflate');
const server = serve({ hostname: '127.0.0.1', port: 0, webSocket: true, maxMessageSize: 64 * 1024 * 1024, ...(deflate ? { deflate: true } : {}) }, (ws) => {
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (e) => ws.send(e.data);
});
await server.ready;
console.log(`PORT ${server.port}`);
