/**
 * Chunkers: the ways a byte stream can arrive. A parser that is correct for one chunking and not another has state
 * that leaks across chunk boundaries, which is exactly what the fuzz suites compare.
 */
import type { Rng } from './rng.js';

export interface Chunking {
  name: string;
  chunks: Uint8Array[];
}

/** `bytes` cut at the given offsets (copies: the code under test may own and mutate what it is given). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const sorted = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const c of sorted) {
    out.push(bytes.slice(start, c));
    start = c;
  }
  out.push(bytes.slice(start));
  return out;
}

/**
 * The chunkings compared for one input: whole; one byte at a time (for inputs up to `byteWiseMax`); a few random
 * cuttings (few large pieces, many small ones); and one random two-piece cut. Every call returns fresh copies.
 */
export function chunkings(bytes: Uint8Array, rng: Rng, byteWiseMax = 4096): Chunking[] {
  const out: Chunking[] = [{ name: 'whole', chunks: [bytes.slice()] }];
  const n = bytes.length;
  if (n <= 1) return out;
  if (n <= byteWiseMax) {
    const cuts: number[] = [];
    for (let i = 1; i < n; i++) cuts.push(i);
    out.push({ name: 'bytewise', chunks: splitAt(bytes, cuts) });
  }
  for (const pieces of [2, 3, 1 + rng.int(Math.min(n, 64))]) {
    const cuts: number[] = [];
    for (let i = 0; i < pieces - 1; i++) cuts.push(1 + rng.int(n - 1));
    out.push({ name: `random(${cuts.sort((a, b) => a - b).join(',')})`, chunks: splitAt(bytes, cuts) });
  }
  return out;
}
