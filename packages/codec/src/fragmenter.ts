import { encodeClosePayload } from './close.js';
import type { DeflateCodec } from './deflate-bridge.js';
import type { EncoderOptions, OutgoingMessage, PayloadSource } from './frame.js';
import { FIN, RSV1, type FrameSink } from './frame-decoder.js';
import { encodeIntoScratch, encodeUtf8, isValidUtf8, SCRATCH_CHARS, utf8Scratch, Utf8Validator } from './utf8.js';

/** What the stream stage offers the framer while it writes a streamed payload piece by piece. */
export interface FramerHost {
  /** Passes the frames produced so far downstream. */
  flush(): void;
  /** Resolves when downstream wants more (backpressure between pieces of a streamed payload). */
  ready(): Promise<void>;
}

const NONE = 0;
const OPEN_TEXT = 1;
const OPEN_BINARY = 2;

const EMPTY = new Uint8Array(0);

/**
 * Messages to frames: the encoding side of the message layer, shared by MessageEncoderStream (sink makes Frame
 * objects) and the fused WebSocketEncoderStream (sink is the FrameEncoder, so messages go to bytes with no Frame
 * objects in between).
 *
 * - text/binary with a whole payload: one frame, or `fragmentSize`-sized fragments; compressed first when
 *   permessage-deflate is on and the extension says the size is worth it (the only asynchronous case).
 * - text/binary with a streamed payload (ReadableStream, async or sync iterable): every piece becomes a frame (split
 *   further at `fragmentSize`), one piece is held back so the last frame can carry FIN, and the framer waits for
 *   downstream demand between pieces, so memory stays bounded whatever the total size. Streamed payloads are sent
 *   uncompressed (the extension compresses whole messages).
 * - chunk (MessageChunk): one frame each, continuation unless `first`, FIN on `last`; control messages may be
 *   interleaved, data messages may not.
 * - close: code optional (no code: empty payload); nothing may be sent after it.
 */
export class MessageFramer {
  private readonly sink: FrameSink;
  private readonly deflate: DeflateCodec | null;
  private readonly fragmentSize: number;
  private open = NONE; // a chunked message is in progress
  private closed = false;

  constructor(o: EncoderOptions, sink: FrameSink, deflate: DeflateCodec | null) {
    const fs = o.fragmentSize ?? Infinity;
    if (!(fs >= 1)) throw new RangeError('fragmentSize must be >= 1');
    this.fragmentSize = fs;
    this.sink = sink;
    this.deflate = deflate;
  }

  /** Emits the frames of `m` to the sink. Returns a promise only when it has to wait (compression, streaming). */
  write(m: OutgoingMessage, host: FramerHost): void | Promise<void> {
    if (this.closed) throw new TypeError(`cannot send a ${m.type} message after a close message`);
    switch (m.type) {
      case 'text': {
        this.checkNotOpen();
        const d = m.data;
        if (typeof d === 'string') return this.text(d);
        if (d instanceof Uint8Array) {
          // Pre-encoded text (e.g. relayed): must be valid UTF-8, since the peer fails the connection otherwise.
          if (!isValidUtf8(d)) throw new TypeError('text message bytes are not valid UTF-8');
          return this.whole(1, d);
        }
        return this.streamed(1, d, host);
      }
      case 'binary': {
        this.checkNotOpen();
        const d = m.data;
        if (d instanceof Uint8Array) return this.whole(2, d);
        if (ArrayBuffer.isView(d)) return this.whole(2, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        return this.streamed(2, d, host);
      }
      case 'ping':
      case 'pong':
        if (!(m.data instanceof Uint8Array)) throw new TypeError(`${m.type} data must be a Uint8Array`);
        if (m.data.length > 125) throw new RangeError(`${m.type} payload of ${m.data.length} bytes, at most 125`);
        this.sink.onFrame(FIN | (m.type === 'ping' ? 9 : 10), m.data);
        return;
      case 'close':
        this.sink.onFrame(FIN | 8, encodeClosePayload(m.code, m.reason));
        this.closed = true;
        return;
      case 'chunk': {
        const kind = m.kind === 'text' ? OPEN_TEXT : OPEN_BINARY;
        if (m.first) {
          this.checkNotOpen();
          this.open = kind;
        } else if (this.open !== kind) {
          throw new TypeError('message chunk without a started message of that kind');
        }
        if (m.last) this.open = NONE;
        // OPEN_TEXT/OPEN_BINARY equal the Text/Binary opcodes.
        this.fragments(m.first ? kind : 0, m.data, m.last, 0);
        return;
      }
      default:
        throw new TypeError(`unknown message type ${String((m as { type: unknown }).type)}`);
    }
  }

  private checkNotOpen(): void {
    if (this.open !== NONE) throw new TypeError('a chunked message is in progress: finish it with a last chunk first');
  }

  /** A whole string: short ones go through the shared scratch buffer, without a copy when the sink copies anyway. */
  private text(s: string): void | Promise<void> {
    const sink = this.sink;
    // A sink that encodes text itself (FrameEncoder: straight into the output chunk) gets text that will be sent
    // as one uncompressed frame (3 bytes per UTF-16 unit at most, so it cannot exceed fragmentSize).
    if (sink.onText !== undefined && this.deflate === null && s.length * 3 <= this.fragmentSize) {
      sink.onText(FIN | 1, s);
      return;
    }
    if (s.length <= SCRATCH_CHARS) {
      const n = encodeIntoScratch(s);
      if (this.deflate === null && n <= (this.sink.copiesUpTo ?? 0)) {
        this.fragments(1, utf8Scratch.subarray(0, n), true, 0);
        return;
      }
      return this.whole(1, utf8Scratch.slice(0, n));
    }
    return this.whole(1, encodeUtf8(s));
  }

  /** A whole payload: compressed when worth it, then fragmented. */
  private whole(opcode: number, data: Uint8Array): void | Promise<void> {
    const d = this.deflate;
    if (d !== null && d.shouldCompress(data.length)) {
      return d.compress(data).then((c) => this.fragments(opcode, c, true, RSV1));
    }
    this.fragments(opcode, data, true, 0);
  }

  /**
   * Emits `data` as frames of at most fragmentSize bytes; the first gets `opcode` (0 = continuation) and `rsv`, the
   * last gets FIN when `fin`.
   */
  private fragments(opcode: number, data: Uint8Array, fin: boolean, rsv: number): void {
    const n = data.length;
    const fs = this.fragmentSize;
    if (n <= fs) {
      this.sink.onFrame((fin ? FIN : 0) | rsv | opcode, data);
      return;
    }
    for (let off = 0; off < n; off += fs) {
      const end = Math.min(off + fs, n);
      const b0 = off === 0 ? rsv | opcode : 0;
      this.sink.onFrame(end === n && fin ? b0 | FIN : b0, data.subarray(off, end));
    }
  }

  private async streamed(
    opcode: number,
    src: PayloadSource<Uint8Array> | PayloadSource<string | Uint8Array>,
    host: FramerHost,
  ): Promise<void> {
    const text = opcode === 1;
    const utf8 = text ? new Utf8Validator() : null;
    let carry = ''; // a high surrogate waiting for its pair from the next string piece
    let held: Uint8Array | null = null;
    let first = true;
    for await (const piece of iterate<string | Uint8Array>(src as PayloadSource<string | Uint8Array>)) {
      let bytes: Uint8Array;
      if (typeof piece === 'string') {
        if (!text) throw new TypeError('binary message pieces must be Uint8Array');
        let s = carry + piece;
        carry = '';
        const last = s.charCodeAt(s.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          carry = s.slice(-1);
          s = s.slice(0, -1);
        }
        bytes = encodeUtf8(s);
        if (!utf8!.push(bytes)) throw new TypeError('text pieces do not form valid UTF-8');
      } else if (piece instanceof Uint8Array) {
        bytes = piece;
        if (utf8 !== null && !utf8.push(bytes)) throw new TypeError('text pieces are not valid UTF-8');
      } else {
        throw new TypeError('message pieces must be Uint8Array (or string for text)');
      }
      if (bytes.length === 0) continue;
      if (held !== null) {
        this.fragments(first ? opcode : 0, held, false, 0);
        first = false;
        host.flush();
        await host.ready();
      }
      held = bytes;
    }
    if (carry !== '') {
      const b = encodeUtf8(carry); // a lone high surrogate at the very end: encoded as U+FFFD, like TextEncoder does
      utf8!.push(b);
      held = held === null ? b : joinTwo(held, b);
    }
    if (utf8 !== null && !utf8.complete) throw new TypeError('text pieces end inside a UTF-8 sequence');
    this.fragments(first ? opcode : 0, held ?? EMPTY, true, 0);
  }
}

function joinTwo(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Iterates a ReadableStream, async iterable or iterable; cancels/returns the source when the consumer stops early. */
export async function* iterate<T>(src: PayloadSource<T>): AsyncGenerator<T, void, undefined> {
  if (isReadableStream<T>(src)) {
    const reader = src.getReader();
    let done = false;
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) {
          done = true;
          return;
        }
        yield r.value;
      }
    } finally {
      if (!done) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  } else if (src != null && typeof (src as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
    yield* src as AsyncIterable<T>;
  } else if (src != null && typeof (src as Iterable<T>)[Symbol.iterator] === 'function') {
    yield* src as Iterable<T>;
  } else {
    throw new TypeError('payload must be a Uint8Array, string, ReadableStream or iterable');
  }
}

function isReadableStream<T>(x: unknown): x is ReadableStream<T> {
  return typeof x === 'object' && x !== null && typeof (x as ReadableStream<T>).getReader === 'function';
}
