// Echo server on Bun: the same session, bound to Bun.listen by @streamsocket/bun.
import { serve } from '@streamsocket/bun';

const server = serve({ hostname: '127.0.0.1', port: Number(process.env.PORT ?? 8080) }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});
console.log(`echo server on ${server.url}/`);
