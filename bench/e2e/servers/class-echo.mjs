// An echo server written against the WebSocket class (serve({ webSocket: true })): each `message` event's data is
// sent back. The event API takes messages from the session as they are decoded, with no streams
// (packages/session/README.md). run.mjs bundles it once per adapter, '@streamsocket/adapter' standing for
// @streamsocket/node, /bun or /deno (the server's `adapter`), from the packages' TypeScript sources.
// `--deflate`: accept permessage-deflate.
import { serve } from '@streamsocket/adapter';

const deflate = process.argv.includes('--deflate');
const server = serve({ hostname: '127.0.0.1', port: 0, webSocket: true, maxMessageSize: 64 * 1024 * 1024, ...(deflate ? { deflate: true } : {}) }, (ws) => {
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (e) => ws.send(e.data);
});
await server.ready;
console.log(`PORT ${server.port}`);
