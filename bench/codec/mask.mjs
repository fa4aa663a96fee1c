// Masking kernels head to head: the scalar 32-bit JS loop (src/mask.ts) vs the WebAssembly SIMD kernel
// (src/mask-wasm.ts, including its two copies through wasm memory), on the same buffers, sizes 16 B .. 1 MiB.
//
//   node bench/codec/mask.mjs [--ms 1000] [--cpu]   (ms per contender and size; --cpu: CPU instead of wall time)
import { bundleCodec } from './bundle.mjs';

const { jsMask, createWasmMasker } = await bundleCodec();
const wasmMask = createWasmMasker();
if (!wasmMask) { console.log('WebAssembly SIMD unavailable here'); process.exit(0); }

const arg = (name, d) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
const MS = arg('--ms', 1000);
const key = new Uint8Array([1, 2, 3, 4]);
const sizes = [16, 64, 128, 256, 512, 1024, 4096, 16384, 65536, 262144, 1048576];

/**
 * GB/s of each contender on `data`: ROUNDS interleaved rounds of MS/ROUNDS ms each (so load bursts from other
 * processes hit all contenders alike), best round kept. Calls go in batches so timer reads stay negligible.
 */
const ROUNDS = 5;
// --cpu: process CPU time instead of wall time (robust against being descheduled on a shared machine).
const clock = process.argv.includes('--cpu') ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();
function measureAll(fns, data) {
  const batch = Math.max(1, Math.floor((1 << 22) / data.length));
  for (const fn of fns) for (let i = 0; i < batch * 4; i++) fn(data, key, 0); // warm-up (JIT tiers)
  const best = fns.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    fns.forEach((fn, k) => {
      let bytes = 0;
      const t0 = clock();
      let t = t0;
      while (t - t0 < MS / ROUNDS) {
        for (let i = 0; i < batch; i++) fn(data, key, 0);
        bytes += batch * data.length;
        t = clock();
      }
      best[k] = Math.max(best[k], bytes / ((t - t0) / 1e3) / 1e9);
    });
  }
  return best;
}

const copy = (data) => { scratch.set(data); };
let scratch;
console.log('size      js GB/s  wasm GB/s  wasm/js  (TypedArray.set copy GB/s)');
const rows = [];
for (const n of sizes) {
  const data = new Uint8Array(n).map((_, i) => i);
  scratch = new Uint8Array(n);
  const [js, wa, cp] = measureAll([jsMask, wasmMask, copy], data);
  rows.push({ n, js, wa });
  const label = n >= 1048576 ? `${n / 1048576} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`;
  console.log(`${label.padEnd(9)} ${js.toFixed(2).padStart(7)}  ${wa.toFixed(2).padStart(9)}  ${(wa / js).toFixed(2).padStart(6)}x  ${cp.toFixed(2).padStart(8)}`);
}
