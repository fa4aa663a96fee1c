// Masking (RFC 6455 5.3) and the buffered key source.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferedMaskKeySource, mask, maskInto, randomMaskKeys } from '../src/index.js';
import { randomBytes } from './_helpers.js';

function reference(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  return data.map((b, i) => b ^ key[(i + offset) & 3]!);
}

test('mask equals the byte-wise definition for every length 0..300, alignment 0..3 and offset 0..3', () => {
  const key = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
  const backing = randomBytes(400, 5);
  for (let align = 0; align < 4; align++) {
    for (let n = 0; n <= 300; n += n < 70 ? 1 : 23) {
      for (let offset = 0; offset < 4; offset++) {
        const src = backing.slice(0, 400);
        const view = src.subarray(align, align + n);
        const want = reference(view, key, offset);
        mask(view, key, offset);
        assert.equal(Array.from(view), Array.from(want), `align ${align} n ${n} offset ${offset}`);
        assert.equal(Array.from(src.subarray(0, align)), Array.from(backing.subarray(0, align)), 'bytes before untouched');
        assert.equal(Array.from(src.subarray(align + n)), Array.from(backing.subarray(align + n, 400)), 'bytes after untouched');
      }
    }
  }
});

test('masking twice restores the data; piecewise masking with offsets equals one pass', () => {
  const key = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
  const data = randomBytes(10_000, 9);
  const a = data.slice();
  mask(a, key);
  const b = data.slice();
  for (const [s, e] of [[0, 1], [1, 38], [38, 4001], [4001, 4003], [4003, 10_000]] as const) mask(b.subarray(s, e), key, s);
  assert.equal(Array.from(a), Array.from(b));
  mask(a, key);
  assert.equal(Array.from(a), Array.from(data));
});

test('maskInto equals copy + mask at every size around the wasm threshold, any offsets', () => {
  const key = Uint8Array.of(9, 8, 7, 6);
  for (const n of [0, 1, 31, 32, 33, 255, 256, 257, 4099, 70_001]) {
    for (const phase of [0, 3]) {
      const src = randomBytes(n, n + phase);
      const before = src.slice();
      const dst = new Uint8Array(n + 10).fill(0x55);
      maskInto(src, dst, 5, key, phase);
      assert.equal(Array.from(src), Array.from(before), 'src unchanged');
      const want = reference(src, key, phase);
      for (let i = 0; i < n; i++) if (dst[5 + i] !== want[i]) assert.unreachable(`n ${n} phase ${phase} byte ${i}`);
      assert.ok(dst.subarray(0, 5).every((b) => b === 0x55) && dst.subarray(5 + n).every((b) => b === 0x55));
    }
  }
});

test('buffered key source: 4 bytes per fill, keys vary, refills after 1024 keys', () => {
  const src = new BufferedMaskKeySource();
  const seen = new Set<string>();
  const t = new Uint8Array(8);
  for (let i = 0; i < 3000; i++) {
    src.fill(t, 2);
    assert.is(t[0], 0);
    assert.is(t[7], 0);
    seen.add(Array.from(t.subarray(2, 6)).join(','));
  }
  assert.ok(seen.size > 2900, `distinct keys ${seen.size}`);
  assert.is(randomMaskKeys.next().length, 4);
});

test.run();
