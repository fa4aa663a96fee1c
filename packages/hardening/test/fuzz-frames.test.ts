/**
 * Fuzzing the frame decoder and message assembler, sync core, both roles (issue 9). Valid streams from an
 * independent reference writer decode to exactly what was written, under a cut at every offset and for every
 * prefix; random and mutated streams end in messages plus a typed CodecError (1002/1007/1009) or a clean/mid-frame
 * end, identical for every chunking. Seed: STREAMSOCKET_FUZZ_SEED; budget: 2/6 of STREAMSOCKET_FUZZ_SECONDS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameDecoder, CodecError, type Role, type Frame } from '@streamsocket/codec';
import { Rng, seedFromEnv, fuzzBudgetMs, runBudget, mutate, concatBytes, splitAt, toHex, type BudgetResult } from '../src/index.js';
import { checkSync, syncOutcome, validStream, mutateFrames, showExpected, OracleError, MAX_MESSAGE, AGREEMENTS } from './_codec-check.js';
import { saveFailure } from './_corpus.js';

const seed = seedFromEnv('fuzz-frames');
const ROLES: Role[] = ['server', 'client'];

async function guarded(target: string, body: (setInput: (b: Uint8Array) => void) => Promise<void>, options?: Record<string, unknown>): Promise<void> {
  let input: Uint8Array = new Uint8Array(0);
  try {
    await body((b) => (input = b));
  } catch (e) {
    if (e instanceof OracleError || e instanceof assert.Assertion) {
      const file = saveFailure({ target, hex: toHex(input), note: e.message, seed, ...(options ? { options } : {}) }, `${target}-${seed}`);
      throw new Error(`${e.message}\n  seed ${seed}; input saved to ${file}`);
    }
    throw e;
  }
}

test('a 1 GiB declared frame and a 64-bit length with the top bit set fail at the header, nothing buffered', () => {
  for (const role of ROLES) {
    const maskBit = role === 'server' ? 0x80 : 0;
    // 1 GiB binary frame: 127 + 0x0000000040000000; only the 10 (14 with mask) header bytes are sent.
    const gib = new Uint8Array([0x82, maskBit | 127, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]);
    const top = new Uint8Array([0x82, maskBit | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
    for (const [bytes, closeCode] of [[gib, 1009], [top, 1002]] as const) {
      const d = new FrameDecoder({ role });
      const out: Frame[] = [];
      const hdr = role === 'server' ? 14 : 10;
      let err: unknown;
      // Byte by byte: it must fail exactly at the last byte of the length field (mask key not needed).
      let at = -1;
      for (let i = 0; i < hdr && err === undefined; i++) {
        try {
          d.push(bytes.slice(i, i + 1), out);
        } catch (e) {
          err = e;
          at = i;
        }
      }
      assert.instance(err, CodecError);
      assert.is((err as CodecError).closeCode, closeCode, `${role} close code`);
      assert.ok(at < hdr, `${role}: failed at byte ${at}, within the ${hdr}-byte header`);
    }
  }
});

for (const role of ROLES) {
  test(`${role}: valid streams decode to what was written, cut at every offset, and every prefix is a clean prefix`, async () => {
    let iterations = 0;
    await guarded(`frames-valid-${role}`, async (setInput) => {
      const rng = new Rng(seed ^ (role === 'server' ? 0x3333 : 0x4444));
      let cuts = 0;
      let withDeflate = 0;
      const r = await runBudget(fuzzBudgetMs(0.5), () => {
        const it = rng.fork();
        // Half the streams carry compressed messages (the sync core hands them on as PendingInflate, shown with
        // their compressed bytes): cuts and prefixes are then compared with the whole-stream outcome.
        const deflate = it.bool(0.5) ? it.pick(AGREEMENTS) : null;
        const { frames, messages } = validStream(it, role, deflate !== null);
        const input = concatBytes(frames);
        setInput(input);
        const whole = syncOutcome(role, [input.slice()], deflate);
        const expected = deflate ? whole.messages : showExpected(messages);
        if (JSON.stringify(whole.messages) !== JSON.stringify(expected)) {
          throw new OracleError(`decoded differs from written:\n  want ${JSON.stringify(expected).slice(0, 400)}\n  got  ${JSON.stringify(whole).slice(0, 400)}`);
        }
        if (whole.end !== 'end') throw new OracleError(`valid stream ended ${whole.end}`);
        if (deflate) withDeflate++;
        for (let k = 1; k < input.length; k++) {
          if (input.length > 3000 && k % 7 !== 0) continue; // big streams: every 7th offset keeps the budget fair
          const two = syncOutcome(role, splitAt(input, [k]), deflate);
          if (JSON.stringify(two) !== JSON.stringify(whole)) throw new OracleError(`cut at ${k} differs: ${JSON.stringify(two).slice(0, 300)}`);
          const prefix = syncOutcome(role, [input.slice(0, k)], deflate);
          const n = prefix.messages.length;
          if (JSON.stringify(prefix.messages) !== JSON.stringify(expected.slice(0, n))) throw new OracleError(`prefix ${k} is not a prefix of the messages`);
          if (prefix.end.startsWith('error')) throw new OracleError(`prefix ${k} failed: ${prefix.end}`);
          cuts++;
        }
      });
      console.log(`[fuzz-frames valid ${role}] ${r.iterations} streams (${withDeflate} with compressed messages), ${cuts} cuts and prefixes in ${(r.elapsedMs / 1000).toFixed(1)} s, slowest ${r.maxIterationMs.toFixed(1)} ms`);
      iterations = r.iterations;
    });
    assert.ok(iterations >= 5, `enough streams ran (${iterations})`);
  });

  test(`${role}: random and mutated streams end typed and identically for every chunking`, async () => {
    const ends = new Map<string, number>();
    let stats: BudgetResult | undefined;
    await guarded(`frames-${role}`, async (setInput) => {
      const rng = new Rng(seed ^ (role === 'server' ? 0x5555 : 0x6666));
      const r = await runBudget(fuzzBudgetMs(0.5), () => {
        const it = rng.fork();
        const deflate = it.bool(0.3) ? it.pick(AGREEMENTS) : null;
        let input: Uint8Array;
        const k = it.int(10);
        if (k === 0) input = it.bytes(it.size(400));
        else {
          const { frames } = validStream(it, role, deflate !== null);
          input = k < 5 ? concatBytes(mutateFrames(frames, it)) : mutate(concatBytes(frames), it, 3);
        }
        setInput(input);
        const o = checkSync(role, input, it, deflate);
        ends.set(o.end, (ends.get(o.end) ?? 0) + 1);
      });
      const top = [...ends].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', ');
      console.log(`[fuzz-frames mutated ${role}] ${r.iterations} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s, slowest ${r.maxIterationMs.toFixed(1)} ms; ends: ${top}`);
      stats = r;
    });
    assert.ok(stats!.iterations > 100);
    assert.ok([...ends.keys()].some((k) => k.startsWith('error:1002')), 'protocol errors were reached');
    assert.ok([...ends.keys()].some((k) => k === 'end'), 'some inputs still decode cleanly');
    assert.ok(stats!.maxIterationMs < 2000, `no pathological input (${stats!.maxIterationMs} ms)`);
  });
}

test('limits: a message one byte over maxMessageSize fails with 1009 in every chunking', () => {
  const rng = new Rng(seed);
  const payload = new Uint8Array(MAX_MESSAGE + 1);
  const half = MAX_MESSAGE / 2;
  const frames = concatBytes([
    new Uint8Array([0x02, 126, half >>> 8, half & 0xff]), payload.subarray(0, half),
    new Uint8Array([0x80, 126, (half + 1) >>> 8, (half + 1) & 0xff]), payload.subarray(0, half + 1),
  ]);
  assert.is(checkSync('client', frames, rng).end, 'error:1009:MESSAGE_TOO_BIG');
});

test.run();
