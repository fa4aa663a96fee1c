import { checkClosePayload } from './close.js';
import { CodecError } from './errors.js';
import type { DecoderOptions, Frame } from './frame.js';
import { resolveLimits } from './limits.js';
import { mask, maskInto } from './mask.js';
import { markOwned } from './owned.js';
import { Utf8Validator } from './utf8.js';

/**
 * Receives decoded frames from {@link FrameDecoder.decode}. `b0` is the frame's first header byte: FIN 0x80, RSV1
 * 0x40, RSV2 0x20, RSV3 0x10, opcode in the low nibble. Passing the byte rather than a Frame object lets the fused
 * decoder go from bytes to messages without allocating an object per frame.
 */
export interface FrameSink {
  onFrame(b0: number, payload: Uint8Array): void;
  /**
   * Payloads up to this many bytes are copied before onFrame returns (so the caller may reuse the memory right
   * after). Undefined = 0: the sink may keep the view.
   */
  readonly copiesUpTo?: number;
  /**
   * Optional: a whole frame whose payload is `text` as UTF-8 (FrameEncoder: encoded straight into the output chunk).
   * The message framer uses it, when present, for text it neither compresses nor fragments.
   */
  onText?(b0: number, text: string): void;
}

// First-byte bits.
export const FIN = 0x80;
export const RSV1 = 0x40;
export const RSV2 = 0x20;
export const RSV3 = 0x10;

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_CLOSED = 2;

const MSG_NONE = 0;
const MSG_TEXT = 1;
const MSG_BINARY = 2;

const TWO_POW_32 = 4294967296;

/**
 * Synchronous wire decoder: bytes in, frames out, for chunks split anywhere (one byte at a time up to megabytes).
 *
 * Everything RFC 6455 says about a single frame and about the sequence of frames is enforced here, before payload
 * bytes are buffered: reserved opcodes, RSV bits (RSV1 only for a negotiated permessage-deflate and only on the first
 * frame of a data message), masking by role, control frame rules, fragmentation order, 64-bit lengths with the top
 * bit set, and the frame/message size limits (checked against the header). Text is UTF-8-validated as the bytes
 * arrive (fail fast, even inside one frame), unless the message is compressed (then after inflating).
 *
 * Ownership: the decoder takes ownership of the chunks passed to it. A payload lying whole inside a chunk is
 * delivered as a view of that chunk (no copy), and for the server role it is unmasked in place, so the caller must
 * not reuse a chunk after pushing it. A payload spanning chunks is copied once into a buffer of its exact size
 * (the size is known from the header and was checked against the limits).
 *
 * Non-minimal length encodings (a 16-bit or 64-bit length field holding a value that would fit a shorter form) are
 * accepted: RFC 6455 5.2 puts the "minimal number of bytes" duty on the sender, the value is unambiguous, and the
 * limits apply to the value, so accepting them costs nothing. The encoder always uses the minimal form.
 *
 * After a close frame the decoder ignores any further bytes (RFC 6455 5.5.1: nothing may follow it).
 */
export class FrameDecoder {
  private readonly requireMask: boolean;
  private readonly deflate: boolean;
  private readonly maxFrameSize: number;
  private readonly maxMessageSize: number;
  private readonly splitFrames: boolean;
  private readonly validateUtf8: boolean;

  private state = STATE_HEADER;
  // Partial header (at most 14 bytes) when a header is split between chunks.
  private readonly hbuf = new Uint8Array(14);
  private hfill = 0;

  // Current frame.
  private b0 = 0;
  private masked = false;
  private readonly key = new Uint8Array(4);
  private length = 0; // payload length from the header
  private received = 0; // payload bytes seen so far
  private buf: Uint8Array | null = null; // only for payloads spanning chunks (not split)
  private checkText = false; // validate this frame's payload as UTF-8

  // Current data message.
  private msg = MSG_NONE;
  private msgCompressed = false;
  private msgBytes = 0;
  private readonly utf8 = new Utf8Validator();

  private error: CodecError | null = null;

  // Reused by push() so that it does not allocate a sink per call.
  private readonly arraySink = new FrameArraySink();

  constructor(o: DecoderOptions & { validateUtf8?: boolean }) {
    if (o.role !== 'client' && o.role !== 'server') throw new TypeError(`role must be 'client' or 'server'`);
    this.requireMask = o.role === 'server';
    this.deflate = o.deflate != null;
    const limits = resolveLimits(o);
    this.maxFrameSize = limits.maxFrameSize;
    this.maxMessageSize = limits.maxMessageSize;
    this.splitFrames = o.splitFrames === true;
    this.validateUtf8 = o.validateUtf8 !== false;
  }

  /** True once a close frame was decoded; later input is ignored. */
  get closed(): boolean {
    return this.state === STATE_CLOSED;
  }

  /** True when no frame or data message is partially received (a clean point to end the byte stream). */
  get idle(): boolean {
    return (this.state === STATE_HEADER && this.hfill === 0 && this.msg === MSG_NONE) || this.state === STATE_CLOSED;
  }

  /** Decodes `chunk`, appending every completed frame to `out`. Throws CodecError. */
  push(chunk: Uint8Array, out: Frame[]): void {
    const sink = this.arraySink;
    sink.out = out;
    try {
      this.decode(chunk, sink);
    } finally {
      sink.out = null;
    }
  }

  /**
   * Decodes `chunk`, handing every completed frame to `sink` synchronously. Throws CodecError; after that the
   * decoder is failed and every later call throws the same error (the connection is being failed anyway).
   */
  decode(chunk: Uint8Array, sink: FrameSink): void {
    if (this.error !== null) throw this.error;
    try {
      this.run(chunk, sink);
    } catch (e) {
      if (e instanceof CodecError) this.error = e;
      throw e;
    }
  }

  private run(chunk: Uint8Array, sink: FrameSink): void {
    const n = chunk.length;
    // Payload views are made with the constructor rather than chunk.subarray(): in V8 that is ~1.7x faster per view
    // (no species lookup), in JavaScriptCore the same.
    let buffer: ArrayBufferLike | null = null;
    let pos = 0;
    for (;;) {
      if (this.state === STATE_HEADER) {
        if (pos >= n) return;
        if (this.hfill === 0 && n - pos >= 2) {
          const need = headerSize(chunk[pos + 1]!);
          if (n - pos >= need) {
            this.parseHeader(chunk, pos);
            pos += need;
          } else {
            this.stash(chunk, pos, n);
            return;
          }
        } else {
          pos = this.fillHeader(chunk, pos, n);
          if (this.hfill === 0) continue; // a header was completed and parsed
          return;
        }
      } else if (this.state === STATE_PAYLOAD) {
        const remaining = this.length - this.received;
        const avail = n - pos;
        if (this.received === 0 && avail >= remaining) {
          // Fast path: the whole payload is inside this chunk. Deliver a view, unmasked in place.
          if (buffer === null) buffer = chunk.buffer;
          const payload = new Uint8Array(buffer, chunk.byteOffset + pos, remaining);
          pos += remaining;
          if (this.masked && remaining > 0) mask(payload, this.key, 0);
          this.finishFrame(payload, sink);
          continue;
        }
        if (avail === 0) return;
        const take = avail < remaining ? avail : remaining;
        pos = this.partialPayload(chunk, pos, take, sink);
      } else {
        return; // closed: ignore everything after the close frame
      }
    }
  }

  /** Copies the start of a header (fewer bytes than it needs) into hbuf. */
  private stash(chunk: Uint8Array, pos: number, n: number): void {
    const hbuf = this.hbuf;
    let f = this.hfill;
    while (pos < n) hbuf[f++] = chunk[pos++]!;
    this.hfill = f;
  }

  /** Slow path: completes a header that started in an earlier chunk. Returns the new position. */
  private fillHeader(chunk: Uint8Array, pos: number, n: number): number {
    const hbuf = this.hbuf;
    let f = this.hfill;
    if (f < 2) {
      while (f < 2 && pos < n) hbuf[f++] = chunk[pos++]!;
      if (f < 2) {
        this.hfill = f;
        return pos;
      }
    }
    const need = headerSize(hbuf[1]!);
    while (f < need && pos < n) hbuf[f++] = chunk[pos++]!;
    if (f < need) {
      this.hfill = f;
      return pos;
    }
    this.hfill = 0;
    this.parseHeader(hbuf, 0);
    return pos;
  }

  /** Validates a complete header at bytes[p] and prepares for its payload. Throws CodecError. */
  private parseHeader(bytes: Uint8Array, p: number): void {
    const b0 = bytes[p]!;
    const b1 = bytes[p + 1]!;
    const opcode = b0 & 0x0f;
    const control = (opcode & 0x08) !== 0;

    if (opcode > 2 && (opcode < 8 || opcode > 10)) {
      throw new CodecError(1002, 'RESERVED_OPCODE', `reserved opcode ${opcode}`);
    }
    if ((b0 & (RSV2 | RSV3)) !== 0) {
      throw new CodecError(1002, 'RESERVED_BITS', 'RSV2/RSV3 set without a negotiated extension');
    }
    if ((b0 & RSV1) !== 0 && (!this.deflate || opcode === 0 || control)) {
      throw new CodecError(1002, 'RESERVED_BITS', this.deflate
        ? 'RSV1 set on a control or continuation frame'
        : 'RSV1 set without a negotiated extension');
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.requireMask) {
      throw new CodecError(1002, masked ? 'UNEXPECTED_MASK' : 'MISSING_MASK', masked
        ? 'a server must not mask frames'
        : 'a client must mask frames');
    }

    let length = b1 & 0x7f;
    let q = p + 2;
    if (length === 126) {
      length = (bytes[q]! << 8) | bytes[q + 1]!;
      q += 2;
    } else if (length === 127) {
      const hi = ((bytes[q]! << 24) | (bytes[q + 1]! << 16) | (bytes[q + 2]! << 8) | bytes[q + 3]!) >>> 0;
      const lo = ((bytes[q + 4]! << 24) | (bytes[q + 5]! << 16) | (bytes[q + 6]! << 8) | bytes[q + 7]!) >>> 0;
      if (hi >= 0x80000000) {
        throw new CodecError(1002, 'INVALID_LENGTH', '64-bit payload length with the most significant bit set');
      }
      length = hi * TWO_POW_32 + lo; // beyond 2^53 this rounds, but any such value is far past every limit
      q += 8;
    }

    if (control) {
      if ((b0 & FIN) === 0) throw new CodecError(1002, 'FRAGMENTED_CONTROL', 'fragmented control frame');
      if (length > 125) throw new CodecError(1002, 'CONTROL_TOO_LONG', `control frame payload of ${length} bytes`);
      this.checkText = false;
    } else {
      if (length > this.maxFrameSize) {
        throw new CodecError(1009, 'FRAME_TOO_BIG', `frame payload of ${length} bytes exceeds ${this.maxFrameSize}`);
      }
      if (opcode === 0) {
        if (this.msg === MSG_NONE) {
          throw new CodecError(1002, 'UNEXPECTED_CONTINUATION', 'continuation frame without a message to continue');
        }
      } else {
        if (this.msg !== MSG_NONE) {
          throw new CodecError(1002, 'EXPECTED_CONTINUATION', 'new data frame before the previous message ended');
        }
        this.msg = opcode === 1 ? MSG_TEXT : MSG_BINARY;
        this.msgCompressed = (b0 & RSV1) !== 0;
        this.msgBytes = 0;
        this.utf8.reset();
      }
      const total = this.msgBytes + length;
      if (total > this.maxMessageSize) {
        throw new CodecError(1009, 'MESSAGE_TOO_BIG', `message of more than ${this.maxMessageSize} bytes`);
      }
      this.msgBytes = total;
      this.checkText = this.validateUtf8 && this.msg === MSG_TEXT && !this.msgCompressed;
    }

    this.b0 = b0;
    this.length = length;
    this.received = 0;
    this.masked = masked;
    if (masked) {
      const key = this.key;
      key[0] = bytes[q]!;
      key[1] = bytes[q + 1]!;
      key[2] = bytes[q + 2]!;
      key[3] = bytes[q + 3]!;
    }
    this.state = STATE_PAYLOAD;
  }

  /** Consumes `take` bytes of a payload that does not lie whole inside one chunk. Returns the new position. */
  private partialPayload(chunk: Uint8Array, pos: number, take: number, sink: FrameSink): number {
    const offset = this.received;
    const end = pos + take;
    const control = (this.b0 & 0x08) !== 0;
    if (this.splitFrames && !control) {
      // Hand the piece on at once as its own frame: memory stays bounded by the chunk size.
      const piece = chunk.subarray(pos, end);
      if (this.masked) mask(piece, this.key, offset);
      this.received = offset + take;
      const last = this.received === this.length;
      const b0 = this.b0;
      // First piece keeps opcode and RSV1; later pieces are continuations; FIN only on the piece ending the frame.
      const pieceB0 = (offset === 0 ? b0 & 0x4f : 0) | (last ? b0 & FIN : 0);
      if (this.checkText && !this.utf8.push(piece)) throw invalidText();
      if (last) this.endFrame();
      sink.onFrame(pieceB0, piece);
      return end;
    }
    let buf = this.buf;
    if (buf === null) {
      try {
        buf = this.buf = new Uint8Array(this.length);
      } catch {
        throw new CodecError(1009, 'FRAME_TOO_BIG', `cannot buffer a frame of ${this.length} bytes`);
      }
    }
    const piece = chunk.subarray(pos, end);
    if (this.masked) maskInto(piece, buf, offset, this.key, offset);
    else buf.set(piece, offset);
    const part = buf.subarray(offset, offset + take);
    // Fail fast: check the text as it arrives rather than when the frame is complete.
    if (this.checkText && !this.utf8.push(part)) throw invalidText();
    this.received = offset + take;
    if (this.received === this.length) {
      this.buf = null;
      this.checkText = false; // already validated piece by piece
      markOwned(buf); // allocated for this payload alone, and no longer ours
      this.finishFrame(buf, sink);
    }
    return end;
  }

  /** A whole frame's payload is available (unmasked): final checks, then hand it on. */
  private finishFrame(payload: Uint8Array, sink: FrameSink): void {
    const b0 = this.b0;
    const opcode = b0 & 0x0f;
    if (opcode === 8) {
      checkClosePayload(payload);
      this.state = STATE_CLOSED;
      sink.onFrame(b0, payload);
      return;
    }
    if (this.checkText && !this.utf8.push(payload)) throw invalidText();
    if (opcode < 8) this.endFrame();
    else this.state = STATE_HEADER;
    sink.onFrame(b0, payload);
  }

  /** End of a data frame's payload: message bookkeeping. */
  private endFrame(): void {
    this.state = STATE_HEADER;
    if ((this.b0 & FIN) !== 0) {
      if (this.msg === MSG_TEXT && !this.msgCompressed && this.validateUtf8 && !this.utf8.complete) {
        throw new CodecError(1007, 'INVALID_UTF8', 'text message ends inside a UTF-8 sequence');
      }
      this.msg = MSG_NONE;
    }
  }
}

function invalidText(): CodecError {
  return new CodecError(1007, 'INVALID_UTF8', 'text message is not valid UTF-8');
}

/** Header size implied by the second header byte: 2, plus 2 or 8 for extended lengths, plus 4 for a mask key. */
function headerSize(b1: number): number {
  const l = b1 & 0x7f;
  return 2 + (l === 126 ? 2 : l === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

/** Adapter from the sink interface to Frame objects for push(). */
class FrameArraySink implements FrameSink {
  out: Frame[] | null = null;
  onFrame(b0: number, payload: Uint8Array): void {
    this.out!.push(frameFromByte(b0, payload));
  }
}

export function frameFromByte(b0: number, payload: Uint8Array): Frame {
  return {
    fin: (b0 & FIN) !== 0,
    rsv1: (b0 & RSV1) !== 0,
    rsv2: (b0 & RSV2) !== 0,
    rsv3: (b0 & RSV3) !== 0,
    opcode: b0 & 0x0f,
    payload,
  };
}

export function byteFromFrame(f: Frame): number {
  return (f.fin ? FIN : 0) | (f.rsv1 ? RSV1 : 0) | (f.rsv2 ? RSV2 : 0) | (f.rsv3 ? RSV3 : 0) | (f.opcode & 0x0f);
}
