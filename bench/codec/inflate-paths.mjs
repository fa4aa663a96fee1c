// Inflating one message with context takeover, the two ways the codec can drive a persistent zlib stream, in one
// process: synchronous calls on its native handle (what the codec uses up to SYNC_INFLATE_INPUT of compressed
// input) against one threadpool write per message (what it uses beyond, and where the handle is unusable).
// The threadpool path is forced by hiding the native handle, as packages/codec/test/deflate-paths.test.ts does.
//
//   node bench/codec/inflate-paths.mjs        (also runs under bun: `bun bench/codec/inflate-paths.mjs`)
//
// Messages are words, compressed at level 1 as bench/e2e's load generator sends them. Prints wall and process CPU
// time (all threads) per message; interleaved rounds, the median of five.
import { bundleCodec } from './bundle.mjs';

const { PerMessageDeflate, getZlib, setZlibForTesting } = await bundleCodec();
const real = getZlib();
if (!real) throw new Error('no node:zlib here');

/** The same zlib whose streams expose only the public API, so the codec cannot find a native handle. */
function publicOnly(z) {
  const facade = (s) => ({
    write: (c, cb) => s.write(c, cb), on: (ev, l) => s.on(ev, l), destroy: () => s.destroy(),
    get destroyed() { return s.destroyed === true; }, get errored() { return s.errored ?? null; }, get bytesWritten() { return s.bytesWritten ?? 0; },
  });
  return { ...z, constants: z.constants, createInflateRaw: (o) => facade(z.createInflateRaw(o)), createDeflateRaw: (o) => facade(z.createDeflateRaw(o)) };
}

const agreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const words = ['alpha', 'beta', 'gamma', 'delta', 'frame', 'mask', 'payload', 'server', 'client', 'the', 'of', 'and', 'a'];
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
function message(size) {
  let s = '';
  while (s.length < size) s += words[Math.floor(rnd() * words.length)] + ' ';
  return new TextEncoder().encode(s.slice(0, size));
}

/** Compressed messages of one connection, in order (each depends on the ones before it). */
async function transcript(size, n) {
  setZlibForTesting(real);
  const c = new PerMessageDeflate(agreement, 'client', { maxMessageSize: 1 << 26, threshold: 0, level: 1 });
  const out = [];
  for (let i = 0; i < n; i++) out.push(await c.compress(message(size)));
  c.dispose();
  return out;
}

async function inflateAll(z, wire) {
  setZlibForTesting(z);
  const s = new PerMessageDeflate(agreement, 'server', { maxMessageSize: 1 << 26 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const m of wire) await s.decompress([m], []);
  const wall = ((performance.now() - t0) * 1000) / wire.length;
  const cpu = process.cpuUsage(cpu0);
  s.dispose();
  setZlibForTesting(real);
  return { wall, cpu: (cpu.user + cpu.system) / wire.length };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`}: µs per message, median of 5 interleaved rounds`);
console.log('\n| message | compressed | native handle wall | CPU | threadpool wall | CPU | threadpool / native (wall) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const size of [1024, 4096, 16384, 65536]) {
  const n = Math.max(200, Math.min(4000, Math.floor((32 << 20) / size)));
  const wire = await transcript(size, n);
  const avg = Math.round(wire.reduce((k, m) => k + m.length, 0) / wire.length);
  const a = [], b = [];
  for (let r = 0; r < 5; r++) {
    a.push(await inflateAll(real, wire));
    b.push(await inflateAll(publicOnly(real), wire));
  }
  const [aw, ac, bw, bc] = [median(a.map((x) => x.wall)), median(a.map((x) => x.cpu)), median(b.map((x) => x.wall)), median(b.map((x) => x.cpu))];
  console.log(`| ${size} B | ${avg} B | ${aw.toFixed(1)} | ${ac.toFixed(1)} | ${bw.toFixed(1)} | ${bc.toFixed(1)} | ${(bw / aw).toFixed(2)}x |`);
}
