// The committed wasm constant is exactly what scripts/gen-mask-wasm.mjs assembles (so nobody edits the bytes by
// hand or forgets to regenerate), and it validates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// @ts-expect-error -- a plain .mjs build script without type declarations
import { bytes } from '../scripts/gen-mask-wasm.mjs';
import { MASK_WASM_BYTES } from '../src/mask-wasm-module.js';

test('src/mask-wasm-module.ts matches the generator', () => {
  assert.equal(Array.from(MASK_WASM_BYTES), Array.from(bytes as Uint8Array));
  assert.ok(WebAssembly.validate(new Uint8Array(bytes as Uint8Array)));
});

test.run();
