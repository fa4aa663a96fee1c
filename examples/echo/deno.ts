// Echo server on Deno: the same session, bound to Deno.listen by @streamsocket/deno.
import { serve } from '@streamsocket/deno';

const server = serve({ hostname: '127.0.0.1', port: Number(Deno.env.get('PORT') ?? 8080) }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
});
console.log(`echo server on ${server.url}/`);
