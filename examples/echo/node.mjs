// Echo server on Node: every message goes back to its sender, through one pipe (backpressure included).
import { serve } from '@streamsocket/node';

const server = serve({ hostname: '127.0.0.1', port: Number(process.env.PORT ?? 8080) }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {}); // a reset peer ends the pipe; `ws.closed` says why
});
await server.ready;
console.log(`echo server on ws://127.0.0.1:${server.port}/`);
