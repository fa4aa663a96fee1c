import { TransformStream } from '@web-std/stream';
import { finishInflated, MessageAssembler, PendingInflate, type AssemblerOutput } from './assembler.js';
import { lazyDeflate, type DeflateCodec } from './deflate-bridge.js';
import { CodecError } from './errors.js';
import type {
  DecoderOptions,
  EncoderOptions,
  Frame,
  IncomingMessage,
  Message,
  OutgoingMessage,
} from './frame.js';
import { byteFromFrame, FrameDecoder, frameFromByte, type FrameSink } from './frame-decoder.js';
import { FrameEncoder } from './frame-encoder.js';
import { MessageFramer, type FramerHost } from './fragmenter.js';
import { resolveLimits } from './limits.js';
import { byteSize, frameSize, messageSize, readableHwm, strategy, writableHwm } from './strategies.js';
import { Utf8Validator } from './utf8.js';

/*
 * The stream classes are thin: each transform() call runs a synchronous core once over the whole input chunk and
 * enqueues every result, so a TCP chunk carrying a hundred frames costs one call and no promise per frame. The only
 * awaits are inflating a compressed message, compressing one, and writing a streamed payload.
 *
 * All queues are measured in bytes (see strategies.ts); the defaults are 64 KiB on each side of each stream.
 */

type Ctl<T> = TransformStreamDefaultController<T>;

// ---------------------------------------------------------------------------------------------------------------
// Frames

/** Bytes to frames. Takes ownership of the written chunks (payloads are views of them; see FrameDecoder). */
export class FrameDecoderStream extends TransformStream<Uint8Array, Frame> {
  constructor(o: DecoderOptions) {
    const dec = new FrameDecoder(o);
    const out: Frame[] = [];
    const hwm = readableHwm(o);
    super(
      {
        transform(chunk: Uint8Array, c: Ctl<Frame>): void | Promise<void> {
          let err: unknown;
          try {
            dec.push(chunk, out);
          } catch (e) {
            err = e;
          }
          for (let i = 0; i < out.length; i++) c.enqueue(out[i]!);
          const delivered = out.length > 0;
          out.length = 0;
          if (err !== undefined) return failAfterDrain(c, err, delivered, hwm);
        },
        flush(c: Ctl<Frame>): void | Promise<void> {
          if (!dec.idle) return failAfterDrain(c, truncated(), true, hwm);
        },
      },
      strategy(byteSize, writableHwm(o)),
      strategy(frameSize, hwm),
    );
  }
}

/** Frames to bytes. Payloads above 16 KiB of unmasked frames are passed on without copying (see FrameEncoder). */
export class FrameEncoderStream extends TransformStream<Frame, Uint8Array> {
  constructor(o: EncoderOptions) {
    const enc = new FrameEncoder(o);
    const out: Uint8Array[] = [];
    super(
      {
        transform(f: Frame, c: Ctl<Uint8Array>): void {
          enc.encode(f, out);
          for (let i = 0; i < out.length; i++) c.enqueue(out[i]!);
          out.length = 0;
        },
      },
      strategy(frameSize, writableHwm(o)),
      strategy(byteSize, readableHwm(o)),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** Shared decoding back end: drains the assembler's output, inflating compressed messages in order. */
class Delivery {
  readonly asm: MessageAssembler;
  private readonly deflate: DeflateCodec | null;
  private readonly stream: boolean;
  private readonly hwm: number;
  private readonly utf8 = new Utf8Validator();

  constructor(o: DecoderOptions, trusted: boolean) {
    const limits = resolveLimits(o);
    this.stream = o.streamMessages === true;
    this.hwm = readableHwm(o);
    this.asm = new MessageAssembler({
      maxMessageSize: limits.maxMessageSize,
      deflate: o.deflate != null,
      streamMessages: this.stream,
      trusted,
    });
    this.deflate = o.deflate != null ? lazyDeflate(o.deflate, o.role, { maxMessageSize: limits.maxMessageSize }) : null;
  }

  /** Enqueues everything the assembler produced; `err` (from decoding) is raised after it. Sync unless inflating. */
  deliver(c: Ctl<IncomingMessage>, err: unknown): void | Promise<void> {
    const out = this.asm.out;
    for (let i = 0; i < out.length; i++) {
      const m = out[i]!;
      if (m instanceof PendingInflate) return this.deliverAsync(c, err, out.splice(0, out.length), i, i > 0);
      c.enqueue(m);
    }
    const delivered = out.length > 0;
    out.length = 0;
    if (err !== undefined) {
      this.dispose();
      return failAfterDrain(c, err, delivered, this.hwm);
    }
  }

  private async deliverAsync(
    c: Ctl<IncomingMessage>,
    err: unknown,
    items: AssemblerOutput[],
    start: number,
    delivered: boolean,
  ): Promise<void> {
    const emit = (m: IncomingMessage): void => c.enqueue(m);
    try {
      for (let i = start; i < items.length; i++) {
        const m = items[i]!;
        if (m instanceof PendingInflate) {
          const inflated: Uint8Array[] = [];
          await this.deflate!.decompress(m.parts, inflated);
          finishInflated(m.kind, inflated, this.stream, this.utf8, emit);
        } else {
          c.enqueue(m);
        }
        delivered = true;
      }
    } catch (e) {
      this.dispose();
      return failAfterDrain(c, e, delivered, this.hwm);
    }
    if (err !== undefined) {
      this.dispose();
      return failAfterDrain(c, err, delivered, this.hwm);
    }
  }

  dispose(): void {
    this.deflate?.dispose();
  }
}

/**
 * Frames to messages. Frames may come from anywhere, so every frame-level rule is checked again (cheap), and text
 * is validated here. With `streamMessages`, data messages come out as MessageChunk pieces.
 */
export class MessageDecoderStream<M extends IncomingMessage = Message> extends TransformStream<Frame, M> {
  constructor(o: DecoderOptions) {
    const d = new Delivery(o, false);
    const asm = d.asm;
    super(
      {
        transform(f: Frame, c: Ctl<M>): void | Promise<void> {
          let err: unknown;
          try {
            asm.onFrame(byteFromFrame(f), f.payload);
          } catch (e) {
            err = e; // raised by deliver() after what was decoded before it (the inflater stays up until then)
          }
          return d.deliver(c as Ctl<IncomingMessage>, err);
        },
        flush(c: Ctl<M>): void | Promise<void> {
          d.dispose();
          if (!asm.idle) return failAfterDrain(c, truncated(), true, readableHwm(o));
        },
        ...onCancel(() => d.dispose()),
      },
      strategy(frameSize, writableHwm(o)),
      strategy(messageSize, readableHwm(o)),
    );
  }
}

/** Messages to frames (fragmented at `fragmentSize`, compressed when deflate is on). */
export class MessageEncoderStream extends TransformStream<OutgoingMessage, Frame> {
  constructor(o: EncoderOptions) {
    const sink = new FrameObjectSink();
    super(
      framingTransformer<Frame>(o, sink, (c) => {
        for (let i = 0; i < sink.out.length; i++) c.enqueue(sink.out[i]!);
        sink.out.length = 0;
      }),
      strategy(messageSize, writableHwm(o)),
      strategy(frameSize, readableHwm(o)),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fused: bytes <-> messages in one stage (what the session uses)

/**
 * Bytes to messages in one stage: the frame decoder feeds the assembler directly (no Frame objects, no stream hop);
 * only inflating is asynchronous. Takes ownership of the written chunks. With `streamMessages`, frames are also
 * delivered piece by piece as their bytes arrive, so no message or frame is ever buffered whole.
 */
export class WebSocketDecoderStream<M extends IncomingMessage = Message> extends TransformStream<Uint8Array, M> {
  constructor(o: DecoderOptions) {
    const dec = new FrameDecoder({ ...o, splitFrames: o.streamMessages === true || o.splitFrames === true });
    const d = new Delivery(o, true);
    const asm = d.asm;
    super(
      {
        transform(chunk: Uint8Array, c: Ctl<M>): void | Promise<void> {
          let err: unknown;
          try {
            dec.decode(chunk, asm);
          } catch (e) {
            err = e; // raised by deliver() after what was decoded before it (the inflater stays up until then)
          }
          return d.deliver(c as Ctl<IncomingMessage>, err);
        },
        flush(c: Ctl<M>): void | Promise<void> {
          d.dispose();
          if (!dec.idle) return failAfterDrain(c, truncated(), true, readableHwm(o));
        },
        ...onCancel(() => d.dispose()),
      },
      strategy(byteSize, writableHwm(o)),
      strategy(messageSize, readableHwm(o)),
    );
  }
}

/** Messages to bytes in one stage: the framer writes straight into the frame encoder. */
export class WebSocketEncoderStream extends TransformStream<OutgoingMessage, Uint8Array> {
  constructor(o: EncoderOptions) {
    const enc = new FrameEncoder(o);
    super(
      framingTransformer<Uint8Array>(o, enc, (c) => {
        const out = enc.out;
        for (let i = 0; i < out.length; i++) c.enqueue(out[i]!);
        out.length = 0;
      }),
      strategy(messageSize, writableHwm(o)),
      strategy(byteSize, readableHwm(o)),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/**
 * The transformer of both message encoders: the framer writes each message's frames into `sink` (synchronously,
 * or after compressing), and `drain` moves what the sink holds into the stream. A streamed payload waits for
 * the readable's demand through the ControllerHost; the compressor is released on flush, cancel or failure.
 */
function framingTransformer<T>(o: EncoderOptions, sink: FrameSink, drain: (c: Ctl<T>) => void): Transformer<OutgoingMessage, T> {
  const deflate = encoderDeflate(o);
  const framer = new MessageFramer(o, sink, deflate);
  let ctl: Ctl<T> | undefined;
  const host = new ControllerHost(() => drain(ctl!), () => ctl!);
  return {
    transform(m: OutgoingMessage, c: Ctl<T>): void | Promise<void> {
      ctl = c;
      const r = framer.write(m, host);
      if (r === undefined) {
        host.flush();
        return;
      }
      return r.then(() => host.flush(), (e: unknown) => {
        deflate?.dispose();
        throw e;
      });
    },
    flush(): void {
      deflate?.dispose();
    },
    ...onCancel(() => {
      host.cancelled = true;
      deflate?.dispose();
    }),
  };
}

class FrameObjectSink implements FrameSink {
  readonly out: Frame[] = [];
  onFrame(b0: number, payload: Uint8Array): void {
    this.out.push(frameFromByte(b0, payload));
  }
}

/**
 * Backpressure for streamed payloads. A TransformStream offers no promise for "the readable side wants more", so
 * while a streamed payload is being written the framer polls `desiredSize` with a short, growing timer (1 ms up to
 * 16 ms). This costs nothing for ordinary messages (they never wait) and bounds memory for streamed ones to about
 * the high-water mark plus one piece.
 */
class ControllerHost implements FramerHost {
  /** Set by the transformer's cancel hook: the readable was cancelled (or the writable aborted). */
  cancelled = false;

  constructor(readonly flush: () => void, private readonly ctl: () => Ctl<unknown>) {}

  async ready(): Promise<void> {
    // The consumer usually reads within a few microtasks (pipeTo chains); try that before falling back to timers.
    for (let i = 0; i < 8; i++) {
      if (this.wanted()) return;
      await undefined;
    }
    let delay = 1;
    while (!this.wanted()) {
      await sleep(delay);
      if (delay < 16) delay *= 2;
    }
  }

  private wanted(): boolean {
    // A cancelled readable reports desiredSize 0 forever: stop (the streamed source is then cancelled too).
    if (this.cancelled) throw new TypeError('the stream was cancelled while a streamed payload was being written');
    const size = this.ctl().desiredSize;
    return size === null || size > 0;
  }
}

/**
 * Transformer `cancel` (called when the readable is cancelled or the writable aborted; newer than the TypeScript
 * DOM types, ignored by older implementations): releases the zlib streams early instead of waiting for GC.
 */
function onCancel(fn: () => void): Record<string, unknown> {
  return { cancel: fn };
}

function encoderDeflate(o: EncoderOptions): DeflateCodec | null {
  if (o.deflate == null) return null;
  return lazyDeflate(o.deflate, o.role, {
    maxMessageSize: Infinity,
    ...(o.compressThreshold !== undefined ? { threshold: o.compressThreshold } : {}),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => globalThis.setTimeout(r, ms));
}

/**
 * Raises a decoding error (or TRUNCATED at the end of input) after the results decoded before it. Erroring a stream discards what is still queued, so
 * when this call delivered something, wait (bounded, about half a second) for the consumer to take it first: a peer
 * that sends a valid message and then a bad frame in one TCP segment still gets its message processed.
 */
async function failAfterDrain(c: Ctl<unknown>, err: unknown, delivered: boolean, hwm: number): Promise<never> {
  if (delivered) {
    for (let waited = 0, delay = 1; waited < 500; waited += delay, delay = Math.min(delay * 2, 32)) {
      const size = c.desiredSize;
      if (size === null || size >= hwm) break;
      await sleep(delay);
    }
  }
  throw err;
}

function truncated(): CodecError {
  return new CodecError(1006, 'TRUNCATED', 'the byte stream ended inside a frame or message');
}
