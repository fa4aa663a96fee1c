/**
 * RFC 6455 5.3 masking: byte i of the payload is XORed with key[i mod 4]. The operation is its own inverse, so this
 * one function masks (client encoder) and unmasks (server decoder).
 *
 * Works in place. `offset` is the position of data[0] within the frame payload, so a payload that arrives in pieces
 * can be unmasked piece by piece: mask(piece, key, bytesOfThisFrameSeenBefore).
 *
 * Speed: below WORD_THRESHOLD bytes a byte loop unrolled by four with the key bytes in locals; from there the bulk
 * is XORed 32 bits at a time through a Uint32Array view of the aligned middle part. The 32-bit key is assembled by writing the (rotated) key bytes into a scratch buffer and reading them
 * back through a Uint32Array over the same memory, so the word has the platform's byte order whatever it is, and
 * XORing words is byte-for-byte the same as XORing bytes (endianness-safe without a branch).
 *
 * From WASM_MIN bytes up, the WebAssembly SIMD kernel (mask-wasm.ts) is used where the runtime allows it: even
 * with its two copies through wasm memory it was measured ~2.3x faster than this loop from 256 bytes up, and slower
 * below. It is compiled lazily, on the first call that reaches that size, so importing the codec compiles nothing.
 */
import { createWasmMasker, type Masker } from './mask-wasm.js';

/** From this many bytes up the WebAssembly kernel is used (where available). */
export const WASM_MIN = 256;
/**
 * The copying form goes to wasm from fewer bytes: its JS alternative is set() plus an in-place mask over a new view
 * (same-process A/B, client frames through the encoder: 200 B 1.34x, 250 B 1.32x frames/s with wasm from 128).
 */
const INTO_WASM_MIN = 128;

let wasm: Masker | null | undefined;

function wasmMasker(): Masker | null {
  if (wasm === undefined) wasm = createWasmMasker();
  return wasm;
}

const keyBytes = new Uint8Array(4);
const keyWord = new Uint32Array(keyBytes.buffer);

/**
 * Below this many bytes the setup of a word view costs more than it saves: an unrolled byte loop with the key bytes
 * in locals beat the word loop (whose Uint32Array view is an allocation) 2.7x at 32 bytes, 1.7x at 64, 1.2x at 100
 * in V8, and up to ~200 bytes in JavaScriptCore, where views are dearer.
 */
const WORD_THRESHOLD = 128;

export function mask(data: Uint8Array, key: Uint8Array, offset = 0): void {
  if (data.length >= WASM_MIN) {
    const w = wasmMasker();
    if (w !== null) {
      w(data, key, offset);
      return;
    }
  }
  maskScalar(data, key, offset);
}

/**
 * Masked copy: dst[dstOffset + i] = src[i] ^ key[(offset + i) & 3], `src` unchanged. One memory pass fewer than a
 * copy followed by mask() (what the decoder assembling a frame from chunks and the client encoder both need).
 */
export function maskInto(src: Uint8Array, dst: Uint8Array, dstOffset: number, key: Uint8Array, offset = 0): void {
  const n = src.length;
  if (n >= INTO_WASM_MIN) {
    const w = wasmMasker();
    if (w !== null) {
      w.into(src, dst, dstOffset, key, offset);
      return;
    }
  }
  dst.set(src, dstOffset);
  maskScalar(dst.subarray(dstOffset, dstOffset + n), key, offset);
}

/** The portable 32-bit-word loop (used below WASM_MIN and where WebAssembly is unavailable). */
export function maskScalar(data: Uint8Array, key: Uint8Array, offset = 0): void {
  const n = data.length;
  const phase = offset & 3;
  if (n < WORD_THRESHOLD) {
    maskBytes(data, n, key[phase]!, key[(phase + 1) & 3]!, key[(phase + 2) & 3]!, key[(phase + 3) & 3]!);
    return;
  }
  let i = 0;
  // Bytes up to the next 4-byte boundary of the underlying buffer (Uint32Array views must be aligned).
  const head = (4 - (data.byteOffset & 3)) & 3;
  for (; i < head; i++) data[i]! ^= key[(phase + i) & 3]!;
  const p = (phase + head) & 3;
  keyBytes[0] = key[p]!;
  keyBytes[1] = key[(p + 1) & 3]!;
  keyBytes[2] = key[(p + 2) & 3]!;
  keyBytes[3] = key[(p + 3) & 3]!;
  const k = keyWord[0]!;
  const words = (n - head) >>> 2;
  const w = new Uint32Array(data.buffer, data.byteOffset + head, words);
  let j = 0;
  // Unrolled by four: fewer loop tests, and V8 keeps k in a register.
  const end4 = words - (words & 3);
  for (; j < end4; j += 4) {
    w[j]! ^= k;
    w[j + 1]! ^= k;
    w[j + 2]! ^= k;
    w[j + 3]! ^= k;
  }
  for (; j < words; j++) w[j]! ^= k;
  i = head + words * 4;
  // The tail continues the key stream where the words stopped: (head + 4*words) is congruent to head mod 4.
  for (; i < n; i++) data[i]! ^= key[(phase + i) & 3]!;
}

/** data[i] ^= k(i mod 4) for i < n, four bytes per step, the key already rotated to data[0]'s phase. */
function maskBytes(data: Uint8Array, n: number, k0: number, k1: number, k2: number, k3: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    data[i]! ^= k0;
    data[i + 1]! ^= k1;
    data[i + 2]! ^= k2;
    data[i + 3]! ^= k3;
  }
  if (i < n) data[i++]! ^= k0;
  if (i < n) data[i++]! ^= k1;
  if (i < n) data[i]! ^= k2;
}
