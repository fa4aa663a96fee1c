// @streamsocket/node serve() with topics: every connection subscribes to 'all'; a message from any connection is
// published to 'all' except its sender (framed once, the same bytes written to every subscriber).
// Control messages (text): 'M' -> after a GC (run with --expose-gc), the heap in use is sent back; 'S<n>' -> the
// sender subscribes to n more topics (for memory per subscription; NO_AUTO_SUBSCRIBE=1: not even to 'all', so the
// first subscription's cost is measured too). REDIS_URL set: a RedisBackplane joins processes.
import { serve } from '@streamsocket/node';

let backplane;
if (process.env.REDIS_URL) {
  const { RedisBackplane } = await import('@streamsocket/redis');
  backplane = new RedisBackplane({ url: process.env.REDIS_URL });
  await backplane.ready;
}
const server = serve({ hostname: '127.0.0.1', port: 0, maxPendingHandshakes: 4096, topics: { maxPublishBacklog: 64 * 1024 * 1024, ...(backplane ? { backplane } : {}) } }, async (ws) => {
  const { readable, writable } = await ws.opened;
  if (!process.env.NO_AUTO_SUBSCRIBE) ws.subscribe('all');
  const reader = readable.getReader();
  let writer = null;
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true }));
    if (done) return;
    if (typeof value === 'string') {
      if (value === 'M') {
        globalThis.gc?.();
        globalThis.gc?.();
        writer ??= writable.getWriter();
        void writer.write(String(process.memoryUsage().heapUsed));
      } else if (value.startsWith('S')) {
        const n = Number(value.slice(1));
        for (let i = 0; i < n; i++) ws.subscribe(`t${i}`);
      }
      continue;
    }
    server.publish('all', value, { except: ws });
  }
});
await server.ready;
console.log(`PORT ${server.port}`);
process.on('SIGTERM', () => process.exit(0));
