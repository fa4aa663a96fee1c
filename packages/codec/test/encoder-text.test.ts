// FrameEncoder.writeText: a string encoded as UTF-8 straight into the output chunk must give exactly the bytes of
// write(b0, encodeUtf8(text)) (header forms, masking, U+FFFD for lone surrogates), and never disturb other chunks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { encodeUtf8, FrameDecoder, FrameEncoder, type Frame, type MaskKeySource } from '../src/index.js';

/** Hands out the same sequence of keys to two encoders, so their masked output can be compared byte for byte. */
function keySequence(): MaskKeySource {
  let i = 0;
  return {
    fill(t: Uint8Array, o: number): void {
      t[o] = i & 0xff;
      t[o + 1] = (i * 7 + 3) & 0xff;
      t[o + 2] = (i * 13 + 5) & 0xff;
      t[o + 3] = 0xa5;
      i++;
    },
  };
}

function concat(chunks: Uint8Array[]): number[] {
  const out: number[] = [];
  for (const c of chunks) out.push(...c);
  return out;
}

/** Both ways of sending `s` with first byte `b0`, in one role: [writeText chunks, write(encodeUtf8) chunks]. */
function both(role: 'client' | 'server', b0: number, s: string): [Uint8Array[], Uint8Array[]] {
  const a: Uint8Array[] = [];
  const b: Uint8Array[] = [];
  new FrameEncoder({ role, maskKeys: keySequence() }).writeText(b0, s, a);
  new FrameEncoder({ role, maskKeys: keySequence() }).write(b0, encodeUtf8(s), b);
  return [a, b];
}

const SAMPLES = [
  '',
  'a',
  'héllo', // short non-ASCII: the ASCII loop gives up, encodeInto takes over
  'x'.repeat(23) + '\u0080', // the first non-ASCII unit at the loop's last position
  'x'.repeat(24),
  'x'.repeat(25),
  'y'.repeat(160), // client: last inline-masked size
  'y'.repeat(161),
  'x'.repeat(41), // 3 * 41 = 123: the worst case still fits a 7-bit length
  'x'.repeat(42), // worst case 126, actual 42: room for a 16-bit header, 7-bit written
  'x'.repeat(125),
  'x'.repeat(126),
  '€'.repeat(41) + 'ab', // 125 bytes
  '€'.repeat(42), // 126 bytes: 16-bit length
  'é'.repeat(500),
  '😀'.repeat(300), // surrogate pairs: 4 bytes per 2 code units
  'lone \ud800 high, lone \udc00 low, pair \ud83d\ude00, trailing \ud800',
  'z'.repeat(1024),
  'z'.repeat(1025), // past the direct limit: encoded into its own array
  'ü'.repeat(30_000), // 60,000 bytes
  'q'.repeat(70_000), // 64-bit length
];

test('writeText: same wire bytes as write(b0, encodeUtf8(text)), both roles, every header form', () => {
  for (const role of ['server', 'client'] as const) {
    for (const s of SAMPLES) {
      const [a, b] = both(role, 0x81, s);
      assert.equal(concat(a), concat(b), `${role}, ${s.length} code units`);
      if (s.length <= 1024) assert.is(a.length, 1, 'short text: header and payload in one chunk');
    }
  }
});

test('writeText: one chunk for short text even when coalesceLimit would split write()', () => {
  const out: Uint8Array[] = [];
  new FrameEncoder({ role: 'server', coalesceLimit: 0 }).writeText(0x81, 'hello', out);
  assert.is(out.length, 1);
  assert.equal(Array.from(out[0]!), [0x81, 5, ...new TextEncoder().encode('hello')]);
});

test('writeText: continuation and control opcodes; misuse throws and leaves later output intact', () => {
  const enc = new FrameEncoder({ role: 'server' });
  const out: Uint8Array[] = [];
  enc.writeText(0x01, 'first ', out); // text, no FIN
  enc.writeText(0x80, 'last', out); // continuation, FIN
  enc.writeText(0x89, 'ping', out);
  assert.throws(() => enc.writeText(0x89, 'p'.repeat(126), out), RangeError); // control payload over 125
  assert.throws(() => enc.writeText(0x89, '€'.repeat(42), out), RangeError); // 126 bytes from 42 code units
  assert.throws(() => enc.writeText(0x09, 'ping', out), RangeError); // fragmented control
  assert.throws(() => enc.writeText(0x83, 'x', out), RangeError); // reserved opcode
  enc.writeText(0x81, 'after', out);
  const frames: Frame[] = [];
  const dec = new FrameDecoder({ role: 'client' });
  for (const c of out) dec.push(c.slice(), frames);
  const td = new TextDecoder();
  assert.equal(
    frames.map((f) => [f.fin, f.opcode, td.decode(f.payload)]),
    [[false, 1, 'first '], [true, 0, 'last'], [true, 9, 'ping'], [true, 1, 'after']],
  );
});

test('writeText: chunks share slabs with write() but are never overwritten (across slab rollovers)', () => {
  for (const role of ['server', 'client'] as const) {
    const enc = new FrameEncoder({ role });
    const out: Uint8Array[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 2000; i++) {
      // Mixed sizes (the text reserves 3 bytes per code unit, then uses fewer) and plain binary frames between.
      const s = String.fromCharCode(0x41 + (i % 26)).repeat(1 + ((i * 37) % 900)) + (i % 3 === 0 ? 'é€' : '');
      enc.writeText(0x81, s, out);
      expected.push(s);
      if (i % 5 === 0) {
        enc.write(0x82, new Uint8Array(50).fill(i & 0xff), out);
        expected.push(`bin${i & 0xff}`);
      }
    }
    const dec = new FrameDecoder({ role: role === 'server' ? 'client' : 'server' });
    const frames: Frame[] = [];
    for (const c of out) dec.push(c.slice(), frames);
    const td = new TextDecoder();
    const got = frames.map((f) => (f.opcode === 1 ? td.decode(f.payload) : f.payload.every((x) => x === f.payload[0]) ? `bin${f.payload[0]}` : 'corrupt'));
    assert.equal(got, expected, role);
  }
});

test('writeText: property: any string, any role, equals write(b0, encodeUtf8(text))', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 1100 }), fc.boolean(), (s, client) => {
      const [a, b] = both(client ? 'client' : 'server', 0x81, s);
      assert.equal(concat(a), concat(b));
    }),
    { numRuns: 300 },
  );
});

test.run();
