// The WebAssembly SIMD masking kernel: byte-exact against the RFC 6455 5.3 definition for every length, key phase
// and alignment, block boundaries included; and null where WebAssembly is unavailable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWasmMasker } from '../src/mask-wasm.js';
import { MASK_WASM_BYTES } from '../src/mask-wasm-module.js';

function reference(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  return data.map((b, i) => b ^ key[(offset + i) & 3]!);
}
function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff;
  return b;
}
const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

test('module validates (SIMD) in this runtime', () => {
  assert.ok(WebAssembly.validate(MASK_WASM_BYTES as BufferSource));
  assert.ok(createWasmMasker());
});

test('matches the definition for lengths 0..300, every phase and misaligned views', () => {
  const m = createWasmMasker()!;
  for (let n = 0; n <= 300; n++) for (let offset = 0; offset < 8; offset += 1) {
    const shift = (n + offset) % 5;
    const backing = fill(n + shift + 3, n);
    const view = backing.subarray(shift, shift + n);
    const want = reference(view, key, offset);
    const before = backing.slice();
    m(view, key, offset);
    assert.equal(view, want, `n=${n} offset=${offset}`);
    // Nothing outside the view is touched.
    assert.equal(backing.subarray(0, shift), before.subarray(0, shift));
    assert.equal(backing.subarray(shift + n), before.subarray(shift + n));
  }
});

test('large inputs across 64 KiB blocks, and piecewise masking equals whole', () => {
  const m = createWasmMasker()!;
  for (const n of [65535, 65536, 65537, 200_003, 1 << 20]) {
    const data = fill(n, 3);
    const want = reference(data, key, 1);
    const whole = data.slice();
    m(whole, key, 1);
    assert.equal(whole, want, `n=${n}`);
    // Unmasking in pieces with running offsets (what a streaming decoder does).
    const pieces = data.slice();
    let at = 0;
    for (const len of [7, 65536, 13, 100_001]) {
      const end = Math.min(n, at + len);
      m(pieces.subarray(at, end), key, 1 + at);
      at = end;
    }
    m(pieces.subarray(at), key, 1 + at);
    assert.equal(pieces, want, `pieces n=${n}`);
  }
});

test('involution: masking twice restores the data', () => {
  const m = createWasmMasker()!;
  const data = fill(4099, 9);
  const copy = data.slice();
  m(copy, key);
  assert.not.equal(copy, data);
  m(copy, key);
  assert.equal(copy, data);
});

test('into: masked copy at any destination offset, source untouched', () => {
  const m = createWasmMasker()!;
  for (const n of [0, 1, 3, 15, 16, 17, 63, 64, 65, 1000, 65536, 65537, 150_001]) for (const offset of [0, 1, 2, 3, 6]) {
    const src = fill(n, n + offset);
    const srcCopy = src.slice();
    const dst = new Uint8Array(n + 9).fill(0xee);
    m.into(src, dst, 5, key, offset);
    assert.equal(src, srcCopy);
    assert.equal(dst.subarray(5, 5 + n), reference(src, key, offset), `n=${n} offset=${offset}`);
    assert.ok(dst.subarray(0, 5).every((b) => b === 0xee) && dst.subarray(5 + n).every((b) => b === 0xee));
  }
  assert.throws(() => m.into(new Uint8Array(10), new Uint8Array(12), 3, key), RangeError);
  assert.throws(() => m.into(new Uint8Array(1), new Uint8Array(12), -1, key), RangeError);
});

test('null without WebAssembly, or when it refuses the module', () => {
  const g = globalThis as { WebAssembly?: unknown };
  const saved = g.WebAssembly;
  try {
    g.WebAssembly = undefined;
    assert.is(createWasmMasker(), null);
    g.WebAssembly = { validate: () => false };
    assert.is(createWasmMasker(), null);
    g.WebAssembly = { validate: () => true, Module: function () { throw new Error('CSP'); } };
    assert.is(createWasmMasker(), null);
  } finally {
    g.WebAssembly = saved;
  }
});

test.run();
