// permessage-deflate figures behind the defaults in packages/codec/README-deflate.md: per-message latency
// (compress + inflate) by size and mode, what compression saves by size (the threshold), and memory per connection.
//
//   node --expose-gc bench/codec/deflate.mjs
import { bundleCodec } from './bundle.mjs';

const { PerMessageDeflate, getZlib, setZlibForTesting } = await bundleCodec();
const agreement = (nct) => ({ serverNoContextTakeover: nct, clientNoContextTakeover: nct, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
const te = new TextEncoder();

// A realistic chat/API message stream: JSON objects with repeating keys and varying values.
function jsonMessage(size, i) {
  let s = '';
  for (let k = 0; s.length < size; k++) s += JSON.stringify({ id: i * 100 + k, type: 'update', user: `user${(i * 7 + k) % 50}`, value: Math.sin(i + k).toFixed(6), ok: k % 3 === 0 }) + ',';
  return te.encode(s.slice(0, size));
}

async function latency(size, nct, n) {
  const c = new PerMessageDeflate(agreement(nct), 'client', { maxMessageSize: 1 << 26, threshold: 0 });
  const s = new PerMessageDeflate(agreement(nct), 'server', { maxMessageSize: 1 << 26 });
  const msgs = Array.from({ length: 64 }, (_, i) => jsonMessage(size, i));
  let wire = 0, raw = 0;
  for (let i = 0; i < 50; i++) { const out = []; await s.decompress([await c.compress(msgs[i % 64])], out); }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const m = msgs[i % 64];
    const z = await c.compress(m);
    wire += z.length; raw += m.length;
    const out = [];
    await s.decompress([z], out);
  }
  const us = ((performance.now() - t0) * 1000) / n;
  const cpu = process.cpuUsage(cpu0);
  c.dispose(); s.dispose();
  return { us, cpu: (cpu.user + cpu.system) / n, ratio: wire / raw };
}

console.log(`node ${process.version}`);
console.log('\nWall and CPU time (all threads, so threadpool work counts) per message for compress + inflate:');
console.log('\n| message | takeover wall | takeover CPU | wire/raw | no takeover wall | no takeover CPU | wire/raw |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const size of [64, 256, 1024, 4096, 16384, 65536, 262144]) {
  const n = Math.max(40, Math.min(2000, Math.floor((16 << 20) / size / 4)));
  const a = await latency(size, false, n);
  const b = await latency(size, true, n);
  console.log(`| ${size} B | ${a.us.toFixed(1)} µs | ${a.cpu.toFixed(1)} µs | ${a.ratio.toFixed(2)} | ${b.us.toFixed(1)} µs | ${b.cpu.toFixed(1)} µs | ${b.ratio.toFixed(2)} |`);
}

// Memory per connection: N pairs of contexts after one message each way.
async function perConnection(nct, N = 300) {
  globalThis.gc?.();
  const base = process.memoryUsage();
  const keep = [];
  for (let i = 0; i < N; i++) {
    const p = new PerMessageDeflate(agreement(nct), 'server', { maxMessageSize: 1 << 20 });
    const peer = new PerMessageDeflate(agreement(nct), 'client', { maxMessageSize: 1 << 20, threshold: 0 });
    const m = jsonMessage(2048, i);
    await p.decompress([await peer.compress(m)], []);
    await p.compress(m);
    peer.dispose();
    keep.push(p);
  }
  globalThis.gc?.();
  const now = process.memoryUsage();
  for (const p of keep) p.dispose();
  return { rss: (now.rss - base.rss) / N / 1024, ext: (now.external - base.external) / N / 1024 };
}
console.log('\n| mode | RSS per connection | external per connection |');
console.log('|---|---:|---:|');
for (const nct of [false, true]) {
  const r = await perConnection(nct);
  console.log(`| ${nct ? 'no context takeover' : 'context takeover'} (15-bit windows, memLevel 8) | ${r.rss.toFixed(0)} KiB | ${r.ext.toFixed(0)} KiB |`);
}

// Context takeover, small messages: synchronous calls on the stream's native handle vs the threadpool (forced by
// handing the codec streams that expose only the public API, as deflate-paths.test.ts does).
const real = getZlib();
if (real) {
  const facade = (s) => ({
    write: (c, cb) => s.write(c, cb), on: (e, l) => s.on(e, l), destroy: () => s.destroy(),
    get destroyed() { return s.destroyed === true; }, get errored() { return s.errored ?? null; }, get bytesWritten() { return s.bytesWritten ?? 0; },
  });
  const publicOnly = { ...real, createInflateRaw: (o) => facade(real.createInflateRaw(o)), createDeflateRaw: (o) => facade(real.createDeflateRaw(o)) };
  const chat = Array.from({ length: 64 }, (_, i) => te.encode(JSON.stringify({ id: i, type: 'chat', user: `u${i % 7}`, text: 'hello there '.repeat(1 + (i % 20)) })));
  async function small(z, n) {
    setZlibForTesting(z);
    const c = new PerMessageDeflate(agreement(false), 'client', { maxMessageSize: 1 << 20, threshold: 0 });
    const s = new PerMessageDeflate(agreement(false), 'server', { maxMessageSize: 1 << 20 });
    for (let i = 0; i < 200; i++) await s.decompress([await c.compress(chat[i % 64])], []);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await s.decompress([await c.compress(chat[i % 64])], []);
    const wall = ((performance.now() - t0) * 1000) / n;
    const cu = process.cpuUsage(cpu0);
    c.dispose(); s.dispose();
    return { wall, cpu: (cu.user + cu.system) / n };
  }
  const nat = await small(real, 5000);
  const pool = await small(publicOnly, 5000);
  setZlibForTesting(real);
  console.log('\nContext takeover, 50-250-byte chat JSON, compress + inflate per message:');
  console.log(`native handle: ${nat.wall.toFixed(1)} µs wall, ${nat.cpu.toFixed(1)} µs CPU | threadpool: ${pool.wall.toFixed(1)} µs wall, ${pool.cpu.toFixed(1)} µs CPU`);
}
