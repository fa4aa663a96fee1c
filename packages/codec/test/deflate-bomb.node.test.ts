// Decompression bomb, Node only (process memory figures): ~1 MiB of permessage-deflate data that would inflate to
// 1 GiB of zeros is refused with 1009 after at most maxMessageSize + one zlib chunk of output, in both inflate paths,
// and the process's peak RSS barely moves.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PerMessageDeflate, type DeflateAgreement } from '../src/deflate/index.js';
import { CHUNK_SIZE } from '../src/deflate/per-message.js';
import { getZlib, setZlibForTesting, type ZlibModule, type ZlibStream } from '../src/deflate/zlib.js';
import { CodecError } from '../src/errors.js';

const MiB = 1 << 20;
const agreement = (p: Partial<DeflateAgreement> = {}): DeflateAgreement => ({
  serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...p,
});
const TRAILER = new Uint8Array([0, 0, 0xff, 0xff]);

/**
 * `copies` MiB of zeros as one compressed message. With context takeover, deflating 1 MiB of zeros after the first
 * gives the same bytes every time (the window is all zeros), so the bomb is made from three real compressions.
 */
async function makeBomb(copies: number): Promise<Uint8Array> {
  const maker = new PerMessageDeflate(agreement(), 'client', { maxMessageSize: 1 << 30 });
  const zeros = new Uint8Array(MiB);
  const first = await maker.compress(zeros);
  const second = await maker.compress(zeros);
  const third = await maker.compress(zeros);
  maker.dispose();
  assert.equal(second, third, 'steady-state output');
  const size = first.length + (copies - 1) * (second.length + TRAILER.length);
  const bomb = new Uint8Array(size);
  bomb.set(first, 0);
  let o = first.length;
  for (let i = 1; i < copies; i++) { bomb.set(TRAILER, o); bomb.set(second, o + 4); o += 4 + second.length; }
  return bomb;
}

/** Wraps zlib so that every byte an inflate stream emits is counted (what the inflater was made to produce). */
function countingZlib(real: ZlibModule): { z: ZlibModule; produced: () => number } {
  let produced = 0;
  const z: ZlibModule = {
    ...real,
    constants: real.constants,
    createInflateRaw(o) {
      const s = real.createInflateRaw(o);
      s.on('data', (c: Uint8Array) => { produced += c.length; });
      return s;
    },
    createDeflateRaw: (o) => real.createDeflateRaw(o),
    inflateRawSync: (d, o) => real.inflateRawSync(d, o),
    deflateRawSync: (d, o) => real.deflateRawSync(d, o),
  };
  return { z, produced: () => produced };
}

const bomb = suite('decompression bomb');
const real = getZlib()!;
let big: Uint8Array;

bomb.before(async () => { big = await makeBomb(1024); });
bomb.after(() => setZlibForTesting(real));

bomb('the bomb is real: an 8 MiB version inflates to exactly 8 MiB of zeros', async () => {
  const small = await makeBomb(8);
  const p = new PerMessageDeflate(agreement(), 'server', { maxMessageSize: 8 * MiB });
  const out: Uint8Array[] = [];
  await p.decompress([small], out);
  assert.is(out.reduce((n, c) => n + c.length, 0), 8 * MiB);
  assert.ok(out.every((c) => c.every((b) => b === 0)));
  p.dispose();
  assert.ok(big.length > 900_000 && big.length < 1_200_000, `bomb is ${big.length} bytes for 1 GiB`);
});

for (const [name, a] of [['context takeover', agreement()], ['no context takeover', agreement({ clientNoContextTakeover: true })]] as const) {
  bomb(`1 GiB bomb refused with 1009, bounded output and memory (${name})`, async () => {
    const { z, produced } = countingZlib(real);
    setZlibForTesting(z);
    const max = 16 * MiB;
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage();
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const t0 = Date.now();
    const p = new PerMessageDeflate(a, 'server', { maxMessageSize: max });
    const out: Uint8Array[] = [];
    let err: unknown;
    try { await p.decompress([big], out); } catch (e) { err = e; }
    p.dispose();
    assert.instance(err, CodecError);
    assert.is((err as CodecError).closeCode, 1009);
    assert.is(out.length, 0);
    assert.ok(produced() <= max + 2 * CHUNK_SIZE, `inflater produced ${produced()} bytes for a ${max} limit`);
    const after = process.memoryUsage();
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - Math.max(peakBefore, before.rss);
    // 1 GiB would be unmistakable; allow the limit plus allocator slack.
    assert.ok(peakGrowth < 96 * MiB, `peak RSS grew ${(peakGrowth / MiB).toFixed(1)} MiB`);
    assert.ok(after.arrayBuffers - before.arrayBuffers < 64 * MiB, 'no inflated data retained');
    assert.ok(Date.now() - t0 < 5000, 'stopped early');
    console.log(`  ${name}: ${big.length} B bomb -> refused after ${produced()} B inflated, peak RSS +${(Math.max(0, peakGrowth) / MiB).toFixed(1)} MiB, ${Date.now() - t0} ms`);
  });
}

bomb('a bomb split over many frames is refused the same way', async () => {
  const { z, produced } = countingZlib(real);
  setZlibForTesting(z);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < big.length; i += 4096) frames.push(big.subarray(i, i + 4096));
  const p = new PerMessageDeflate(agreement(), 'server', { maxMessageSize: MiB });
  try { await p.decompress(frames, []); assert.unreachable('accepted'); } catch (e) { assert.is((e as CodecError).closeCode, 1009); }
  assert.ok(produced() <= MiB + 2 * CHUNK_SIZE);
  p.dispose();
});

bomb.run();
