// @streamsocket/bun serve() (our codec on Bun.listen) with topics: framed once, the same bytes to every subscriber.
import { serve } from '@streamsocket/bun';

const server = serve({ hostname: '127.0.0.1', port: 0, maxPendingHandshakes: 4096, topics: { maxPublishBacklog: 64 * 1024 * 1024 } }, async (ws) => {
  const { readable } = await ws.opened;
  ws.subscribe('all');
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) return;
    server.publish('all', value!, { except: ws });
  }
});
console.log(`PORT ${server.port}`);
