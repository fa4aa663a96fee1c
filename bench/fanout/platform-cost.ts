// What the stream API costs per message over a platform-owned WebSocket (the request path's engine), without any
// socket: a fake platform socket whose messages go onMessage -> readable -> pipeTo -> writable -> send(), as an
// echo handler's do, against one plain call per message (what a platform's own onmessage -> send costs us).
//   bun bench/fanout/platform-cost.ts        deno run -A --sloppy-imports bench/fanout/platform-cost.ts
import { PlatformConnection, resolveOptions } from '../../packages/session/src/index.ts';
const N = 200_000;
const msg = new Uint8Array(16);
let sent = 0;
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
const conn = new PlatformConnection({ socket: { send: () => { if (++sent === N) done(); return 16; }, close() {} }, sendSignalsBackpressure: true, maxReadBacklog: 1 << 30 }, resolveOptions({}), { promise: new Promise(() => {}), resolve() {}, reject() {} });
void conn.readable.pipeTo(conn.writable);
const t0 = performance.now();
// feed in batches, as a socket delivers several messages per read
let i = 0;
const feed = () => { for (let k = 0; k < 1000 && i < N; k++, i++) conn.onMessage(msg); if (i < N) queueMicrotask(feed); };
feed();
await finished;
const t = performance.now() - t0;
// the plain handler: one call per message
let s2 = 0;
const t1 = performance.now();
const sock = { send: (_m: Uint8Array) => { s2++; return 16; } };
for (let k = 0; k < N; k++) sock.send(msg);
const t2 = performance.now() - t1;
console.log(`stream API: ${(t * 1000 / N).toFixed(2)} us/message; plain call: ${(t2 * 1000 / N).toFixed(3)} us/message`);
