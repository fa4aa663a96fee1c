import { ByteAccumulator } from './accumulator.js';
import { decodeClosePayload } from './close.js';
import { CodecError } from './errors.js';
import type { IncomingMessage } from './frame.js';
import { FIN, RSV1, RSV2, RSV3, type FrameSink } from './frame-decoder.js';
import { decodeUtf8, decodeUtf8Strict, Utf8Validator } from './utf8.js';
import { markOwned } from './owned.js';

/**
 * A compressed message whose frames are all in: the stream stage inflates it (the only asynchronous step of
 * decoding) and then turns it into a message with `finishInflated()` (internal).
 */
export class PendingInflate {
  constructor(readonly kind: 'text' | 'binary', readonly parts: Uint8Array[]) {}
}

export type AssemblerOutput = IncomingMessage | PendingInflate;

export interface AssemblerOptions {
  maxMessageSize: number;
  /** permessage-deflate negotiated: RSV1 on the first frame of a data message means compressed. */
  deflate: boolean;
  /** Deliver data messages as MessageChunk pieces instead of whole messages. */
  streamMessages: boolean;
  /**
   * The frames come from this package's FrameDecoder, which already enforced every frame-level rule, the size limit
   * and (for uncompressed text) UTF-8; skip re-checking. False for frames of unknown origin (MessageDecoderStream).
   */
  trusted: boolean;
}

const NONE = 0;
const TEXT = 1;
const BINARY = 2;

/**
 * Synchronous frames-to-messages step. Frames go in through {@link onFrame} (it is a FrameSink, so the fused
 * decoder feeds it straight from the frame decoder); finished messages are appended to {@link out}.
 *
 * Control frames become messages at once, even between the fragments of a data message (RFC 6455 5.4). A data
 * message made of one frame is delivered as that frame's payload view (no copy); fragments are joined once at the end.
 */
export class MessageAssembler implements FrameSink {
  readonly out: AssemblerOutput[] = [];
  private readonly o: AssemblerOptions;
  private msg = NONE;
  private compressed = false;
  private size = 0;
  private readonly parts = new ByteAccumulator();
  private readonly utf8 = new Utf8Validator();

  constructor(o: AssemblerOptions) {
    this.o = o;
  }

  /** True when no data message is partially assembled. */
  get idle(): boolean {
    return this.msg === NONE;
  }

  onFrame(b0: number, payload: Uint8Array): void {
    const opcode = b0 & 0x0f;
    const o = this.o;
    if (!o.trusted) checkFrame(b0, payload.length, o.deflate);
    if (opcode >= 8) {
      if (opcode === 9) this.out.push({ type: 'ping', data: payload });
      else if (opcode === 10) this.out.push({ type: 'pong', data: payload });
      else {
        const c = decodeClosePayload(payload);
        this.out.push({ type: 'close', code: c.code, reason: c.reason });
      }
      return;
    }

    const first = opcode !== 0;
    if (first) {
      if (this.msg !== NONE) {
        throw new CodecError(1002, 'EXPECTED_CONTINUATION', 'new data frame before the previous message ended');
      }
      this.msg = opcode === 1 ? TEXT : BINARY;
      this.compressed = (b0 & RSV1) !== 0;
      this.size = 0;
      this.utf8.reset();
    } else if (this.msg === NONE) {
      throw new CodecError(1002, 'UNEXPECTED_CONTINUATION', 'continuation frame without a message to continue');
    }
    const fin = (b0 & FIN) !== 0;
    const size = this.size + payload.length;
    if (!this.compressed && size > o.maxMessageSize) {
      throw new CodecError(1009, 'MESSAGE_TOO_BIG', `message of more than ${o.maxMessageSize} bytes`);
    }
    this.size = size;
    const text = this.msg === TEXT;

    if (this.compressed) {
      this.parts.push(payload);
      if (fin) {
        this.out.push(new PendingInflate(text ? 'text' : 'binary', this.parts.takeParts()));
        this.msg = NONE;
      }
      return;
    }

    if (text && !o.trusted) {
      if (!this.utf8.push(payload)) throw invalidText();
      if (fin && !this.utf8.complete) throw invalidText();
    }

    if (o.streamMessages) {
      this.out.push({ type: 'chunk', kind: text ? 'text' : 'binary', data: payload, first, last: fin });
      if (fin) this.msg = NONE;
      return;
    }

    if (!fin) {
      this.parts.push(payload);
      return;
    }
    let data = payload;
    if (this.parts.byteLength > 0) {
      this.parts.push(payload);
      data = this.parts.takeBytes();
    }
    this.msg = NONE;
    if (text) this.out.push({ type: 'text', data: decodeUtf8(data) });
    else this.out.push({ type: 'binary', data });
  }
}

/**
 * Turns an inflated message into output (whole message, or chunks when streaming), the message layer's delivery of a
 * PendingInflate after decompressing its parts. Validates text (compressed text can only be checked after
 * inflating): a whole text message in the one pass that decodes it, a streamed one with `validator` (a new one when
 * not given). A message joined from several inflated parts is a buffer of its own (`markOwned`).
 */
export function finishInflated(
  kind: 'text' | 'binary',
  inflated: Uint8Array[],
  streamMessages: boolean,
  validator: Utf8Validator | null,
  emit: (m: IncomingMessage) => void,
): void {
  if (streamMessages) {
    if (kind === 'text') {
      const v = validator ?? new Utf8Validator();
      v.reset();
      for (const p of inflated) if (!v.push(p)) throw invalidText();
      if (!v.complete) throw invalidText();
    }
    const n = inflated.length;
    if (n === 0) {
      emit({ type: 'chunk', kind, data: new Uint8Array(0), first: true, last: true });
      return;
    }
    for (let i = 0; i < n; i++) emit({ type: 'chunk', kind, data: inflated[i]!, first: i === 0, last: i === n - 1 });
    return;
  }
  let data: Uint8Array;
  if (inflated.length === 1) data = inflated[0]!;
  else markOwned((data = concat(inflated)));
  if (kind === 'binary') {
    emit({ type: 'binary', data });
    return;
  }
  const text = decodeUtf8Strict(data);
  if (text === null) throw invalidText();
  emit({ type: 'text', data: text });
}

/** Frame-level rules for frames that did not come from FrameDecoder. */
function checkFrame(b0: number, length: number, deflate: boolean): void {
  const opcode = b0 & 0x0f;
  if (opcode > 2 && (opcode < 8 || opcode > 10)) {
    throw new CodecError(1002, 'RESERVED_OPCODE', `reserved opcode ${opcode}`);
  }
  if ((b0 & (RSV2 | RSV3)) !== 0 || ((b0 & RSV1) !== 0 && (!deflate || opcode === 0 || opcode >= 8))) {
    throw new CodecError(1002, 'RESERVED_BITS', 'reserved bit set without an extension owning it');
  }
  if (opcode >= 8) {
    if ((b0 & FIN) === 0) throw new CodecError(1002, 'FRAGMENTED_CONTROL', 'fragmented control frame');
    if (length > 125) throw new CodecError(1002, 'CONTROL_TOO_LONG', `control frame payload of ${length} bytes`);
  }
}

function invalidText(): CodecError {
  return new CodecError(1007, 'INVALID_UTF8', 'text message is not valid UTF-8');
}

/** Joins parts into one new buffer. */
function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
