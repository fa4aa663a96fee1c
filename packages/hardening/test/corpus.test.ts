/**
 * Replays the regression corpus (packages/hardening/corpus/*.json): inputs that once broke an oracle (the code's or
 * the oracle's own), plus edge cases worth pinning. Each runs through its target's oracle (typed outcome, identical
 * for every chunking) and, when the entry records `expect`, must give exactly that outcome.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadZlib, type DeflateAgreement, type Role } from '@streamsocket/codec';
import { Rng, fromHex } from '../src/index.js';
import { loadCorpus } from './_corpus.js';
import { checkHead } from './_head-check.js';
import { checkSync, checkStream } from './_codec-check.js';

test.before(async () => {
  await loadZlib();
});

const corpus = loadCorpus();

test('the corpus is present', () => {
  assert.ok(corpus.length >= 5, `${corpus.length} corpus entries`);
  console.log(`[corpus] ${corpus.length} entries`);
});

for (const { file, entry } of corpus) {
  test(`corpus ${file} (${entry.target})`, async () => {
    const input = fromHex(entry.hex);
    const rng = new Rng(entry.seed ?? 1);
    const deflate = (entry.options?.deflate ?? null) as DeflateAgreement | null;
    let got: unknown;
    const [kind, role] = entry.target.split('-') as [string, string];
    if (kind === 'head') got = checkHead(role as 'request' | 'response', input, rng);
    else if (kind === 'frames') got = checkSync(role as Role, input, rng, deflate);
    else if (kind === 'stream') got = await checkStream(role as Role, input, rng, deflate);
    else throw new Error(`unknown corpus target ${entry.target}`);
    const expect = (entry as { expect?: unknown }).expect;
    if (expect !== undefined) assert.equal(got, expect);
  });
}

test.run();
