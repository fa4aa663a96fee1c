// @streamsocket/bun echo server: serve() accepts every connection; each message read from the WebSocketStream's
// readable is written to its writable (pipeTo: backpressure both ways, text stays text, binary stays binary).
// Bundled by run.mjs from the package's TypeScript sources. `--deflate`: accept permessage-deflate.
import { serve } from '@streamsocket/bun';

const deflate = process.argv.includes('--deflate');
const server = serve({ hostname: '127.0.0.1', port: 0, maxMessageSize: 64 * 1024 * 1024, ...(deflate ? { deflate: true } : {}) }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});
console.log(`PORT ${server.port}`);
