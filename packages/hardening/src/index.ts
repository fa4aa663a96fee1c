/**
 * @streamsocket/hardening: shared helpers for the fuzz, hostile-peer, fault and soak suites in ../test.
 *
 * Everything random here flows from one seeded PRNG, so a failing run prints a seed and replaying it with the env
 * variable STREAMSOCKET_FUZZ_SEED reproduces the exact inputs. Fuzz loops are bounded by wall time, not by an
 * iteration count: the same suite then fits the CI budget on a loaded 2-core machine and runs longer on demand.
 */
export { Rng, seedFromEnv } from './rng.js';
export { fuzzBudgetMs, runBudget, type BudgetResult } from './budget.js';
export { chunkings, splitAt, type Chunking } from './chunk.js';
export { mutate, mutateHead, MUTATORS, HEAD_MUTATORS, type Mutator } from './mutate.js';
export { toHex, fromHex, concatBytes, equalBytes } from './bytes.js';
