/**
 * A small seeded PRNG (mulberry32: 32-bit state, passes the statistical checks a fuzzer needs, and is trivially
 * replayable). Not for anything cryptographic: masks and keys in the code under test come from crypto.
 */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform uint32. */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.float() * n);
  }
  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bool(p = 0.5): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  /** A size skewed towards small values but reaching `max` now and then (fuzzers find most bugs at edges). */
  size(max: number): number {
    const r = this.float();
    if (r < 0.5) return this.int(Math.min(max, 16) + 1);
    if (r < 0.85) return this.int(Math.min(max, 300) + 1);
    return this.int(max + 1);
  }
  /** A child generator with its own stream (so adding draws in one place does not shift another's inputs). */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/**
 * The seed for this run: env `name` (decimal or 0x hex) when set, so a printed seed replays; otherwise fresh.
 * Prints the seed and how to replay it.
 */
export function seedFromEnv(label: string, name = 'STREAMSOCKET_FUZZ_SEED'): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const raw = env[name];
  const seed = raw !== undefined && raw !== '' ? Number(raw) >>> 0 : (Math.random() * 4294967296) >>> 0;
  console.log(`[seed] ${label}: ${seed} (replay: ${name}=${seed})`);
  return seed;
}
