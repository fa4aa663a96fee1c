// The echo server the workerd and Chromium clients talk to, from the installed package; prints its URL.
import { serve } from 'streamsocket';

const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});
await server.ready;
console.log(`listening ${server.url}`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
