import type { EncoderOptions, Frame } from './frame.js';
import { byteFromFrame, FIN, type FrameSink } from './frame-decoder.js';
import { mask, maskInto } from './mask.js';
import { randomMaskKeys, type MaskKeySource } from './random.js';
import { encodeUtf8, encodeUtf8Into } from './utf8.js';

/**
 * Default `coalesceLimit`: server payloads up to this size are copied behind their header into one chunk, larger
 * ones are passed on as they are after a separate header chunk (no copy). Why so high: downstream, every chunk costs
 * a WHATWG write (a promise turn) and usually a socket write syscall (~1-2 us), while copying 16 KiB costs about the
 * same; below that, one chunk per frame is cheaper end to end even though an encoder-only benchmark prefers zero-copy.
 */
export const COALESCE_LIMIT = 16 * 1024;

/** Up to this size client payloads are masked while being copied, by a plain loop: cheaper than the set() + mask()
 * calls and their views (same-process A/B against a 64-byte limit: 100 B 1.34x, 150 B 1.18x frames/s; break-even
 * near 200 B). (Unmasked payloads are always copied with set(): see write().) */
const INLINE_LIMIT = 160;

/**
 * Synchronous wire encoder: one frame in, one or two byte chunks out.
 *
 * Header forms are always minimal (7-bit length up to 125, 16-bit up to 65535, else 64-bit). A client masks every
 * frame with a fresh key from the buffered CSPRNG source; a server never masks.
 *
 * Copies: a client frame is always copied once (masking must not modify the caller's payload) into a single chunk
 * holding header and masked payload. A server frame up to COALESCE_LIMIT bytes is copied behind its header into one
 * chunk; a larger one is emitted as a small header chunk followed by the caller's payload view itself (zero-copy),
 * so the caller must not modify that payload until the chunk has been written out.
 */
export class FrameEncoder implements FrameSink {
  private readonly client: boolean;
  private readonly keys: MaskKeySource;
  private readonly coalesceLimit: number;
  /** Where onFrame() writes (set by the owner before use). */
  out: Uint8Array[] = [];
  /** FrameSink: client frames are always copied (to mask), server frames up to COALESCE_LIMIT. */
  readonly copiesUpTo: number;

  constructor(o: EncoderOptions) {
    if (o.role !== 'client' && o.role !== 'server') throw new TypeError(`role must be 'client' or 'server'`);
    this.client = o.role === 'client';
    this.keys = o.maskKeys ?? randomMaskKeys;
    const limit = o.coalesceLimit ?? COALESCE_LIMIT;
    if (!(limit >= 0)) throw new RangeError('coalesceLimit must be >= 0');
    this.coalesceLimit = limit;
    this.copiesUpTo = this.client ? Infinity : limit;
  }

  /** Appends the wire bytes of `f` to `out`. Throws RangeError for a frame RFC 6455 forbids sending. */
  encode(f: Frame, out: Uint8Array[]): void {
    this.write(byteFromFrame(f), f.payload, out);
  }

  /** FrameSink: appends to `this.out`. */
  onFrame(b0: number, payload: Uint8Array): void {
    this.write(b0, payload, this.out);
  }

  /** FrameSink: appends to `this.out` (see writeText). */
  onText(b0: number, text: string): void {
    this.writeText(b0, text, this.out);
  }

  /** Appends the wire bytes of a frame with first header byte `b0` to `out`. */
  write(b0: number, payload: Uint8Array, out: Uint8Array[]): void {
    const n = payload.length;
    checkFrame(b0, n);
    const lenBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
    const client = this.client;
    const hlen = 2 + lenBytes + (client ? 4 : 0);

    if (!client && n > this.coalesceLimit) {
      const header = allocChunk(hlen);
      writeHeader(header, b0, n, lenBytes, 0);
      out.push(header, payload);
      return;
    }

    const buf = allocChunk(hlen + n);
    writeHeader(buf, b0, n, lenBytes, client ? 0x80 : 0);
    if (!client) {
      // TypedArray.prototype.set() even for a few bytes: in V8 (Node 20/24, Deno) it beat a byte loop from 16 bytes
      // up (bench/codec encode 16 B unmasked +13%; a 64-byte loop cost 3x a set() call). JSC copies 16 bytes faster
      // by loop, but V8 is the engine that matters most here.
      if (n > 0) buf.set(payload, hlen);
    } else {
      const k = hlen - 4;
      this.keys.fill(buf, k);
      if (n <= INLINE_LIMIT) {
        // Masked copy in one loop: cheaper than set() + mask() calls for a few bytes.
        const k0 = buf[k]!, k1 = buf[k + 1]!, k2 = buf[k + 2]!, k3 = buf[k + 3]!;
        let i = 0;
        for (; i + 3 < n; i += 4) {
          buf[hlen + i] = payload[i]! ^ k0;
          buf[hlen + i + 1] = payload[i + 1]! ^ k1;
          buf[hlen + i + 2] = payload[i + 2]! ^ k2;
          buf[hlen + i + 3] = payload[i + 3]! ^ k3;
        }
        if (i < n) buf[hlen + i] = payload[i++]! ^ k0;
        if (i < n) buf[hlen + i] = payload[i++]! ^ k1;
        if (i < n) buf[hlen + i] = payload[i]! ^ k2;
      } else {
        maskInto(payload, buf, hlen, buf.subarray(k, hlen), 0);
      }
    }
    out.push(buf);
  }

  /**
   * Appends the wire bytes of a frame whose payload is `text` encoded as UTF-8 (a lone surrogate becomes U+FFFD, as
   * with TextEncoder). Strings up to TEXT_DIRECT_MAX code units are encoded straight into the output chunk, header
   * and payload in one chunk whatever `coalesceLimit`: no intermediate array and no copy (`write(b0,
   * encodeUtf8(text), out)` allocates the encoded bytes, then copies them behind the header or emits two chunks).
   * Longer ones are encoded into a fresh array that is then written like any payload. Returns the payload's length
   * in bytes.
   */
  writeText(b0: number, text: string, out: Uint8Array[]): number {
    const len = text.length;
    if (len > TEXT_DIRECT_MAX) {
      // Our own fresh array: passing it on without a copy (above coalesceLimit) is safe.
      const bytes = encodeUtf8(text);
      this.write(b0, bytes, out);
      return bytes.length;
    }
    const client = this.client;
    // Room for the longest encoding (3 bytes per UTF-16 code unit) after the longest header it could need; the
    // header is written last, right before the payload, once the length is known.
    const max = len * 3;
    const maxHeader = (max < 126 ? 2 : 4) + (client ? 4 : 0);
    ensureRoom(maxHeader + max);
    const start = slabOffset;
    const at = start + maxHeader; // where the payload goes
    const bytes = slabBytes;
    // Short ASCII by hand: cheaper than the encodeInto() call plus its destination view.
    let n = len <= ASCII_LOOP_MAX ? copyAscii(text, bytes, at) : -1;
    if (n < 0) n = encodeUtf8Into(text, new Uint8Array(slab, at, max));
    checkFrame(b0, n);
    const lenBytes = n < 126 ? 0 : 2;
    const hlen = 2 + lenBytes + (client ? 4 : 0);
    const buf = new Uint8Array(slab, at - hlen, hlen + n);
    slabOffset = (at + n + 7) & ~7;
    writeHeader(buf, b0, n, lenBytes, client ? 0x80 : 0);
    if (client) {
      const k = at - 4;
      this.keys.fill(bytes, k);
      if (n <= INLINE_LIMIT) {
        const k0 = bytes[k]!, k1 = bytes[k + 1]!, k2 = bytes[k + 2]!, k3 = bytes[k + 3]!;
        let i = at;
        const end = at + n;
        for (; i + 3 < end; i += 4) {
          bytes[i]! ^= k0;
          bytes[i + 1]! ^= k1;
          bytes[i + 2]! ^= k2;
          bytes[i + 3]! ^= k3;
        }
        if (i < end) bytes[i++]! ^= k0;
        if (i < end) bytes[i++]! ^= k1;
        if (i < end) bytes[i]! ^= k2;
      } else {
        mask(buf.subarray(hlen), buf.subarray(hlen - 4, hlen), 0);
      }
    }
    out.push(buf);
    return n;
  }
}

/** Strings up to this many UTF-16 code units are encoded straight into a slab chunk (3 bytes each + header fit). */
const TEXT_DIRECT_MAX = 1024;
/** Up to this many code units, text is first tried as ASCII by a plain loop (V8: 1.4x frames/s at 16 chars, parity at
 * 32, half the speed of encodeInto() at 100). */
const ASCII_LOOP_MAX = 24;

/** Writes `text` as ASCII at bytes[at...]; returns its length, or -1 (having written garbage) if it is not ASCII. */
function copyAscii(text: string, bytes: Uint8Array, at: number): number {
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    bytes[at + i] = c;
  }
  return len;
}

/** Throws RangeError for a frame RFC 6455 forbids sending. */
function checkFrame(b0: number, n: number): void {
  const opcode = b0 & 0x0f;
  if (opcode > 2 && (opcode < 8 || opcode > 10)) throw new RangeError(`reserved opcode ${opcode}`);
  if ((opcode & 0x08) !== 0 && (n > 125 || (b0 & FIN) === 0)) {
    throw new RangeError('control frames must have FIN set and at most 125 payload bytes');
  }
}

/**
 * Output chunks up to SLAB_ITEM_MAX bytes are carved from a shared 64 KiB slab (`new Uint8Array(slab, off, n)`)
 * instead of each getting its own ArrayBuffer: V8's off-heap ArrayBuffer allocation dominated the cost of encoding
 * 1 KiB frames (measured by bench/codec: 1 KiB masked 0.53x -> 1.24x ws). Same idea as Node's Buffer pool, which ws
 * relies on. A full slab is dropped and a new one started; nothing handed out is ever overwritten. Shared by all
 * encoders (carving is synchronous), so an idle connection holds none; a slab is freed once the last chunk carved
 * from it is gone. Consequence for consumers: output chunks may share their `.buffer` with other chunks, so never
 * transfer or detach an output chunk's buffer (copy it first).
 */
const SLAB_SIZE = 64 * 1024;
const SLAB_ITEM_MAX = 4 * 1024;
let slab = new ArrayBuffer(0);
/** All of `slab`, for writing into it without a view per chunk. */
let slabBytes = new Uint8Array(slab);
let slabOffset = 0;

function allocChunk(n: number): Uint8Array {
  if (n > SLAB_ITEM_MAX) return new Uint8Array(n);
  ensureRoom(n);
  const off = slabOffset;
  slabOffset = (off + n + 7) & ~7; // 8-aligned starts: the word-wise paths (mask, UTF-8 scan) prefer aligned data
  return new Uint8Array(slab, off, n);
}

/** Makes sure the current slab has `n` (<= SLAB_SIZE) bytes free from slabOffset, starting a new one if not. */
function ensureRoom(n: number): void {
  // byteLength 0: detached (a consumer transferred an output chunk's buffer despite the README): start over.
  if (slabOffset + n > SLAB_SIZE || slab.byteLength === 0) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabBytes = new Uint8Array(slab);
    slabOffset = 0;
  }
}

/** Writes the 2-byte header plus extended length; `maskBit` is 0x80 when a key follows. */
function writeHeader(buf: Uint8Array, b0: number, n: number, lenBytes: number, maskBit: number): void {
  buf[0] = b0;
  if (lenBytes === 0) {
    buf[1] = maskBit | n;
  } else if (lenBytes === 2) {
    buf[1] = maskBit | 126;
    buf[2] = n >>> 8;
    buf[3] = n & 0xff;
  } else {
    buf[1] = maskBit | 127;
    const hi = Math.floor(n / 4294967296);
    const lo = n >>> 0;
    buf[2] = hi >>> 24;
    buf[3] = (hi >>> 16) & 0xff;
    buf[4] = (hi >>> 8) & 0xff;
    buf[5] = hi & 0xff;
    buf[6] = lo >>> 24;
    buf[7] = (lo >>> 16) & 0xff;
    buf[8] = (lo >>> 8) & 0xff;
    buf[9] = lo & 0xff;
  }
}
