/**
 * Optional WebAssembly SIMD masking kernel (RFC 6455 5.3), same contract as `mask()` in mask.ts.
 *
 * The kernel (hand-assembled by scripts/gen-mask-wasm.mjs, 257 bytes) XORs 64 then 16 bytes per step with
 * v128.xor and finishes with a byte loop. WebAssembly cannot work on a foreign ArrayBuffer in place, so every
 * block is copied into the module's 64 KiB memory, masked there and copied back: two extra memory passes. Whether
 * that still beats the scalar 32-bit JS loop depends on the size; see README "Masking" for the measurements that
 * decide how mask.ts uses it.
 *
 * Memory: one 64 KiB wasm page per masker, never grown (large inputs are processed in 64 KiB blocks).
 */
import { MASK_WASM_BYTES } from './mask-wasm-module.js';

/**
 * In-place XOR of `data` with the 4-byte `key`, starting at key phase `offset & 3`. `into` is the copying form:
 * `dst[dstOffset + i] = src[i] ^ key[(offset + i) & 3]` (`src` unchanged) — one memory pass fewer than
 * `dst.set(src, dstOffset)` followed by an in-place mask, which is what a decoder assembling a frame from chunks and
 * a client encoder copying a payload behind its header both need.
 */
export type Masker = ((data: Uint8Array, key: Uint8Array, offset?: number) => void) & {
  into(src: Uint8Array, dst: Uint8Array, dstOffset: number, key: Uint8Array, offset?: number): void;
};

/** Block size: the module's single memory page. A multiple of 4, so the key phase is the same for every block. */
const BLOCK = 65536;

interface MaskExports {
  mask(ptr: number, len: number, key: number): void;
  memory: WebAssembly.Memory;
}

/**
 * Compiles and instantiates the kernel synchronously (the module is far below the 4 KiB limit browsers put on
 * synchronous compilation on the main thread). Returns null where WebAssembly is missing, lacks SIMD (validation
 * fails) or is forbidden (e.g. a CSP without 'wasm-unsafe-eval').
 */
export function createWasmMasker(): Masker | null {
  const wa = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  let exports: MaskExports;
  try {
    if (!wa || !wa.validate(MASK_WASM_BYTES as BufferSource)) return null;
    exports = new wa.Instance(new wa.Module(MASK_WASM_BYTES as BufferSource)).exports as unknown as MaskExports;
  } catch {
    return null;
  }
  const kernel = exports.mask;
  // Never grown, so this view stays attached.
  const mem = new Uint8Array(exports.memory.buffer, 0, BLOCK);
  const word = (key: Uint8Array, offset: number): number => {
    const p = offset & 3;
    // Little-endian in wasm memory: the low byte is the key byte of the first position.
    return key[p]! | (key[(p + 1) & 3]! << 8) | (key[(p + 2) & 3]! << 16) | (key[(p + 3) & 3]! << 24);
  };
  const masker = (data: Uint8Array, key: Uint8Array, offset = 0): void => {
    const k = word(key, offset);
    const n = data.length;
    for (let i = 0; i < n; i += BLOCK) {
      const part = i === 0 && n <= BLOCK ? data : data.subarray(i, Math.min(n, i + BLOCK));
      mem.set(part);
      kernel(0, part.length, k);
      part.set(part.length === BLOCK ? mem : mem.subarray(0, part.length));
    }
  };
  masker.into = (src: Uint8Array, dst: Uint8Array, dstOffset: number, key: Uint8Array, offset = 0): void => {
    const n = src.length;
    if (dstOffset < 0 || dstOffset + n > dst.length) throw new RangeError('destination too small');
    const k = word(key, offset);
    for (let i = 0; i < n; i += BLOCK) {
      const len = Math.min(BLOCK, n - i);
      mem.set(i === 0 && n <= BLOCK ? src : src.subarray(i, i + len));
      kernel(0, len, k);
      dst.set(len === BLOCK ? mem : mem.subarray(0, len), dstOffset + i);
    }
  };
  return masker;
}
