/**
 * Time budgets. The whole fuzzing in the normal test run is STREAMSOCKET_FUZZ_SECONDS (default 60) seconds, shared
 * by the fuzz targets by weight; a longer run is `STREAMSOCKET_FUZZ_SECONDS=600 node packages/devtools/test.mjs
 * hardening` (the runner's per-file timeout then needs raising too: STREAMSOCKET_TEST_TIMEOUT_MS).
 */
const DEFAULT_FUZZ_SECONDS = 60;

/** The number of fuzz targets sharing the budget (keep in sync with the test files that call fuzzBudgetMs). */
const TOTAL_WEIGHT = 6; // head 0.75 + 0.75, session 0.5, frames 2, stream 2

/** This target's share of the fuzzing budget, in ms. `weight` out of TOTAL_WEIGHT. */
export function fuzzBudgetMs(weight = 1): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const raw = Number(env.STREAMSOCKET_FUZZ_SECONDS);
  const total = Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_FUZZ_SECONDS;
  return (total * 1000 * weight) / TOTAL_WEIGHT;
}

export interface BudgetResult {
  iterations: number;
  elapsedMs: number;
  /** The slowest single iteration (ms): the "no hang" figure. */
  maxIterationMs: number;
}

/**
 * Runs `body(i)` until `ms` elapsed (at least `minIterations` times). Async bodies are awaited one at a time.
 * Yields to the event loop every few iterations so timers (the runner's, ours) still fire.
 */
export async function runBudget(ms: number, body: (i: number) => void | Promise<void>, minIterations = 1): Promise<BudgetResult> {
  const t0 = performance.now();
  let i = 0;
  let maxIterationMs = 0;
  for (;;) {
    const elapsed = performance.now() - t0;
    if (i >= minIterations && elapsed >= ms) break;
    const s = performance.now();
    const r = body(i);
    if (r && typeof (r as Promise<void>).then === 'function') await r;
    const d = performance.now() - s;
    if (d > maxIterationMs) maxIterationMs = d;
    i++;
    if ((i & 63) === 0) await new Promise((res) => setTimeout(res, 0));
  }
  return { iterations: i, elapsedMs: performance.now() - t0, maxIterationMs };
}
