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

/** In-place XOR of `data` with the 4-byte `key`, starting at key phase `offset & 3`. */
export type Masker = (data: Uint8Array, key: Uint8Array, offset?: number) => void;

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
  return (data, key, offset = 0) => {
    const p = offset & 3;
    // Little-endian in wasm memory: the low byte is the key byte of the first position.
    const k = key[p]! | (key[(p + 1) & 3]! << 8) | (key[(p + 2) & 3]! << 16) | (key[(p + 3) & 3]! << 24);
    const n = data.length;
    for (let i = 0; i < n; i += BLOCK) {
      const part = i === 0 && n <= BLOCK ? data : data.subarray(i, Math.min(n, i + BLOCK));
      mem.set(part);
      kernel(0, part.length, k);
      part.set(part.length === BLOCK ? mem : mem.subarray(0, part.length));
    }
  };
}
