/**
 * Fuzzing the fused WebSocketDecoderStream (what the session runs), with and without permessage-deflate, both
 * roles (issue 9): codec encode-then-decode returns the input; reference-written streams (some compressed, with
 * and without context takeover) decode to what was written and, cut anywhere, to the same; truncated streams end
 * with 1006 TRUNCATED; mutated streams end typed and identically for every chunking, and (without deflate) exactly
 * like the sync core. Seed: STREAMSOCKET_FUZZ_SEED; budget: 2/6 of STREAMSOCKET_FUZZ_SECONDS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocketEncoderStream, loadZlib, type Role, type Message, type DeflateAgreement } from '@streamsocket/codec';
import { Rng, seedFromEnv, fuzzBudgetMs, runBudget, mutate, concatBytes, splitAt, toHex, type BudgetResult } from '../src/index.js';
import {
  checkStream, streamOutcome, syncOutcome, validStream, mutateFrames, showExpected, OracleError, AGREEMENTS, diffOutcome,
} from './_codec-check.js';
import { saveFailure } from './_corpus.js';

const seed = seedFromEnv('fuzz-stream');
const ROLES: Role[] = ['server', 'client'];
const other = (r: Role): Role => (r === 'server' ? 'client' : 'server');

test.before(async () => {
  assert.ok(await loadZlib(), 'zlib available in Node');
});

async function guarded(target: string, body: (set: (b: Uint8Array, d: DeflateAgreement | null) => void) => Promise<void>): Promise<void> {
  let input: Uint8Array = new Uint8Array(0);
  let deflate: DeflateAgreement | null = null;
  try {
    await body((b, d) => {
      input = b;
      deflate = d;
    });
  } catch (e) {
    if (e instanceof OracleError) {
      const file = saveFailure({ target, hex: toHex(input), note: e.message, seed, options: { deflate } }, `${target}-${seed}`);
      throw new Error(`${e.message}\n  seed ${seed}; input saved to ${file}`);
    }
    throw e;
  }
}

/** Our encoder, for the peer of `role`: messages in, wire bytes out. */
async function encode(role: Role, messages: Message[], deflate: DeflateAgreement | null, fragmentSize: number | undefined): Promise<Uint8Array> {
  const enc = new WebSocketEncoderStream({ role: other(role), deflate, compressThreshold: 0, ...(fragmentSize ? { fragmentSize } : {}) });
  const parts: Uint8Array[] = [];
  const reading = (async () => {
    const r = enc.readable.getReader();
    for (;;) {
      const x = await r.read();
      if (x.done) return;
      parts.push(x.value.slice()); // server-role views may alias the caller's payload
    }
  })();
  const w = enc.writable.getWriter();
  for (const m of messages) await w.write(m);
  await w.close();
  await reading;
  return concatBytes(parts);
}

for (const role of ROLES) {
  test(`${role}: codec encode-then-decode returns the input (with and without deflate, fragmented or not)`, async () => {
    let stats: BudgetResult | undefined;
    await guarded(`roundtrip-${role}`, async (set) => {
      const rng = new Rng(seed ^ (role === 'server' ? 0x7777 : 0x8888));
      stats = await runBudget(fuzzBudgetMs(0.4), async () => {
        const it = rng.fork();
        const deflate = it.bool(0.6) ? it.pick(AGREEMENTS) : null;
        // (Empty messages after non-empty ones with context takeover found the codec bug fixed in 767f8f6.)
        const { messages } = validStream(it, role, false, 8);
        const bytes = await encode(role, messages as Message[], deflate, it.bool(0.5) ? 1 + it.int(300) : undefined);
        set(bytes, deflate);
        const o = await streamOutcome(role, splitAt(bytes, [1 + it.int(Math.max(1, bytes.length - 1))]), deflate);
        const want = showExpected(messages);
        if (JSON.stringify(o.messages) !== JSON.stringify(want) || o.end !== 'end') {
          throw new OracleError(`round trip differs (deflate=${deflate !== null}):\n  want ${JSON.stringify(want).slice(0, 300)}\n  got  ${JSON.stringify(o).slice(0, 300)}`);
        }
      });
    });
    console.log(`[fuzz-stream roundtrip ${role}] ${stats!.iterations} message sequences in ${(stats!.elapsedMs / 1000).toFixed(1)} s`);
    assert.ok(stats!.iterations >= 10);
  });

  test(`${role}: reference streams with deflate decode as written, cut anywhere; truncation ends 1006`, async () => {
    let stats: BudgetResult | undefined;
    let cuts = 0;
    await guarded(`stream-valid-${role}`, async (set) => {
      const rng = new Rng(seed ^ (role === 'server' ? 0x9999 : 0xaaaa));
      stats = await runBudget(fuzzBudgetMs(0.3), async () => {
        const it = rng.fork();
        const deflate = it.pick(AGREEMENTS);
        const { frames, messages } = validStream(it, role, true, 4);
        const input = concatBytes(frames);
        set(input, deflate);
        const wantO = { messages: showExpected(messages), end: 'end' };
        const want = JSON.stringify(wantO);
        for (let j = 0; j < 6; j++) {
          const k = 1 + it.int(Math.max(1, input.length - 1));
          const o = await streamOutcome(role, splitAt(input, [k]), deflate);
          if (JSON.stringify(o) !== want) throw new OracleError(`cut at ${k} of ${input.length} differs (${JSON.stringify(deflate)}): ${diffOutcome(wantO, o)}`);
          // The same stream ended at k: a prefix of the messages, then a clean end or 1006 TRUNCATED.
          const p = await streamOutcome(role, [input.slice(0, k)], deflate);
          const exp = showExpected(messages);
          if (JSON.stringify(p.messages) !== JSON.stringify(exp.slice(0, p.messages.length))) throw new OracleError(`prefix ${k}: not a prefix`);
          if (p.end !== 'end' && p.end !== 'error:1006:TRUNCATED') throw new OracleError(`prefix ${k} ended ${p.end}`);
          cuts++;
        }
      });
    });
    console.log(`[fuzz-stream valid+deflate ${role}] ${stats!.iterations} streams, ${cuts} cuts and truncations in ${(stats!.elapsedMs / 1000).toFixed(1)} s`);
    assert.ok(stats!.iterations >= 10);
  });

  test(`${role}: mutated streams (half with deflate) end typed, identical per chunking, and like the sync core`, async () => {
    let stats: BudgetResult | undefined;
    const ends = new Map<string, number>();
    await guarded(`stream-mutated-${role}`, async (set) => {
      const rng = new Rng(seed ^ (role === 'server' ? 0xbbbb : 0xcccc));
      stats = await runBudget(fuzzBudgetMs(0.3), async () => {
        const it = rng.fork();
        const deflate = it.bool(0.5) ? it.pick(AGREEMENTS) : null;
        const { frames } = validStream(it, role, deflate !== null, 4);
        const input = it.bool(0.5) ? concatBytes(mutateFrames(frames, it)) : mutate(concatBytes(frames), it, 3);
        set(input, deflate);
        const o = await checkStream(role, input, it, deflate);
        ends.set(o.end, (ends.get(o.end) ?? 0) + 1);
        if (deflate === null) {
          const s = syncOutcome(role, [input.slice()]);
          const sEnd = s.end === 'mid-frame' ? 'error:1006:TRUNCATED' : s.end;
          if (JSON.stringify(s.messages) !== JSON.stringify(o.messages) || sEnd !== o.end) {
            throw new OracleError(`stream and sync core disagree:\n  sync   ${JSON.stringify(s).slice(0, 300)}\n  stream ${JSON.stringify(o).slice(0, 300)}`);
          }
        }
      });
    });
    const top = [...ends].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', ');
    console.log(`[fuzz-stream mutated ${role}] ${stats!.iterations} inputs in ${(stats!.elapsedMs / 1000).toFixed(1)} s, slowest ${stats!.maxIterationMs.toFixed(1)} ms; ends: ${top}`);
    assert.ok(stats!.iterations >= 20);
    assert.ok([...ends.keys()].some((k) => k.startsWith('error:1007')), 'corrupt data (1007) was reached');
  });
}

test.run();
