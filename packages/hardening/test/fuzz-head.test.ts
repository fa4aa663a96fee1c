/**
 * Fuzzing the head parser and handshake validation (issue 9): random and mutated request and response heads, fed
 * whole and in random chunkings. Every input must end in an accepted handshake, a typed HandshakeError with its
 * status, or "incomplete" under the size limit; never an untyped throw, a hang, or a difference between chunkings.
 * Seed: STREAMSOCKET_FUZZ_SEED; budget: STREAMSOCKET_FUZZ_SECONDS (this file takes 1.5/6 of it).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadZlib } from '@streamsocket/codec';
import { Rng, seedFromEnv, fuzzBudgetMs, runBudget, mutateHead, toHex } from '../src/index.js';
import { checkHead, clientRequest, randomHead, VALID_REQUESTS, validResponses, OracleError } from './_head-check.js';
import { saveFailure } from './_corpus.js';

const seed = seedFromEnv('fuzz-head');

test.before(async () => {
  await loadZlib();
});

test('the valid seeds are accepted (sanity of the oracle)', () => {
  const rng = new Rng(1);
  for (const r of VALID_REQUESTS) assert.is(checkHead('request', r, rng).ok, true);
  const req = clientRequest();
  const [a, b, refused] = validResponses(req);
  assert.is(checkHead('response', a!, rng, req).ok, true);
  const o = checkHead('response', b!, rng, req);
  assert.is(o.protocol, 'mqtt');
  const r = checkHead('response', refused!, rng, req);
  assert.is(r.status, 403);
  assert.type(r.error, 'string');
});

for (const kind of ['request', 'response'] as const) {
  test(`fuzz ${kind} heads: typed outcome, bounded, identical for every chunking`, async () => {
    const rng = new Rng(seed ^ (kind === 'request' ? 0x1111 : 0x2222));
    const req = clientRequest();
    const seeds = kind === 'request' ? VALID_REQUESTS : validResponses(req);
    const outcomes = new Map<string, number>();
    let input: Uint8Array = new Uint8Array(0);
    try {
      const r = await runBudget(fuzzBudgetMs(0.75), (i) => {
        const it = rng.fork();
        input = it.bool(0.15) ? randomHead(it, kind) : it.bool(0.05) ? it.bytes(it.size(600)) : mutateHead(it.pick(seeds), it, 4);
        const o = checkHead(kind, input, it, req);
        const key = 'ok' in o ? 'accepted' : 'incomplete' in o ? 'incomplete' : `${String(o.status)} ${String(o.error)}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        void i;
      });
      const top = [...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k}: ${v}`).join(', ');
      console.log(`[fuzz-head ${kind}] ${r.iterations} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s, slowest ${r.maxIterationMs.toFixed(1)} ms (all chunkings); outcomes: ${top}`);
      assert.ok(r.iterations > 100, 'enough inputs ran');
      assert.ok((outcomes.get('accepted') ?? 0) > 0, 'some mutated inputs are still accepted');
      assert.ok(outcomes.size > 5, 'a variety of refusals');
      assert.ok(r.maxIterationMs < 2000, `no input took pathological time (${r.maxIterationMs} ms)`);
    } catch (e) {
      if (e instanceof OracleError) {
        const file = saveFailure({ target: `head-${kind}`, hex: toHex(input), note: e.message, seed }, `head-${kind}-${seed}`);
        assert.unreachable(`${e.message}\n  seed ${seed}; input saved to ${file}`);
      }
      throw e;
    }
  });
}

test.run();
