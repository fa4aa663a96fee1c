/**
 * The session's use of the codec: its synchronous cores, not its TransformStreams.
 *
 * Why not WebSocketDecoderStream/WebSocketEncoderStream: each TransformStream
 * costs ~8 KB of heap in Node's streams implementation (plus a pipeTo chain),
 * which made an idle session ~35 KB; the cores cost a few hundred bytes.
 * Driving the cores directly also gives the session what it needs anyway:
 * one read loop that stops reading the socket when the user's readable is
 * full (no intermediate queues to bound), and control frames written between
 * any two messages through the single socket writer.
 *
 * Decoding: FrameDecoder -> MessageAssembler (both synchronous; every
 * frame-level rule, the size limits and UTF-8 of uncompressed text are
 * enforced there). Compressed messages come out as pending parts; they are
 * inflated here (the only asynchronous step) when the reader has room, and the
 * codec's message layer (finishInflated) checks and delivers them.
 *
 * Encoding: the codec's message layer (MessageFramer) makes a message into
 * frames of at most `fragmentSize` payload bytes (compressed first when
 * permessage-deflate is on and the message is over the threshold), each
 * serialised by FrameEncoder (masking for clients). This class is its deflate
 * codec, so the zlib context is made only when a message is compressed.
 */
import {
  FrameDecoder,
  FrameEncoder,
  MessageAssembler,
  MessageFramer,
  PendingInflate,
  PerMessageDeflate,
  encodeClosePayload,
  finishInflated,
  type DeflateAgreement,
  type FrameSink,
  type FramerHost,
  type IncomingMessage,
  type Role,
} from '@streamsocket/codec';
import type { ResolvedOptions } from './options.js';
import { utf8Length } from './close-args.js';

// First header byte bits (RFC 6455 5.2), for FrameEncoder.write(b0, payload, out).
const FIN = 0x80;
const OP_TEXT = 1;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

function isPending(m: unknown): m is PendingInflate {
  return m instanceof PendingInflate;
}

/** Joins byte parts into one buffer (one part: itself): a streamed message's body read whole (message-stream.ts). */
export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Where decoded messages go, and how decoding waits for the reader's demand. */
export interface MessageSink {
  /** A whole message, a control message, or (streamMessages) one piece of a data message. */
  onMessage(m: IncomingMessage): void;
  waitForDemand(): void | Promise<void>;
}

/** The framer's host for whole messages: it never waits (only streamed bodies do, and they have their own). */
const WHOLE: FramerHost = { flush() {}, ready: () => Promise.resolve() };

export class Wire {
  private readonly dec: FrameDecoder;
  private readonly asm: MessageAssembler;
  private readonly enc: FrameEncoder;
  /** Whole messages to frames; writes to `enc.out`. Made on the first message sent. */
  private framer: MessageFramer | null = null;
  private readonly fragmentSize: number;
  private readonly agreement: DeflateAgreement | null;
  /** Created on first use: a connection that negotiated deflate but never uses it holds no zlib state. */
  private pmd: PerMessageDeflate | null = null;
  private readonly maxMessageSize: number;
  private readonly deflateOpts: ResolvedOptions['deflate'];
  private readonly role: Role;
  /** streamMessages: data messages come out as MessageChunk pieces, frames split as their bytes arrive. */
  private readonly streaming: boolean;

  /**
   * Every adapter gathers a turn's writes into one syscall (see ChannelPort.write), so a frame's payload is
   * not copied behind its header to save a write: only tiny frames are.
   */
  constructor(role: Role, o: ResolvedOptions, agreement: DeflateAgreement | null) {
    this.role = role;
    this.agreement = agreement;
    this.maxMessageSize = o.maxMessageSize;
    this.deflateOpts = o.deflate;
    this.streaming = o.streamMessages;
    this.dec = new FrameDecoder({ role, deflate: agreement, maxFrameSize: o.maxFrameSize, maxMessageSize: o.maxMessageSize, splitFrames: o.streamMessages });
    this.asm = new MessageAssembler({ maxMessageSize: o.maxMessageSize, deflate: agreement !== null, streamMessages: o.streamMessages, trusted: true });
    this.enc = new FrameEncoder({ role, coalesceLimit: 125 });
    this.fragmentSize = o.fragmentSize ?? Infinity;
  }

  private frames(): MessageFramer {
    return (this.framer ??= new MessageFramer({ role: this.role, fragmentSize: this.fragmentSize }, this.enc, this.agreement === null ? null : this));
  }

  /** DeflateCodec for the framer: empty messages are never worth compressing (an empty deflate block is best avoided). */
  shouldCompress(byteLength: number): boolean {
    return byteLength > 0 && this.deflate().shouldCompress(byteLength);
  }

  compress(data: Uint8Array): Promise<Uint8Array> {
    return this.deflate().compress(data);
  }

  decompress(parts: Uint8Array[], out: Uint8Array[]): Promise<void> {
    return this.deflate().decompress(parts, out);
  }

  /** True when no frame or message is partially received (a clean place for the byte stream to end). */
  get idle(): boolean {
    return this.dec.idle && this.asm.idle;
  }

  private deflate(): PerMessageDeflate {
    if (this.pmd === null) {
      const d = this.deflateOpts ?? {};
      const opts: ConstructorParameters<typeof PerMessageDeflate>[2] = { maxMessageSize: this.maxMessageSize };
      if (d.threshold !== undefined) opts.threshold = d.threshold;
      if (d.level !== undefined) opts.level = d.level;
      if (d.memLevel !== undefined) opts.memLevel = d.memLevel;
      this.pmd = new PerMessageDeflate(this.agreement!, this.role, opts);
    }
    return this.pmd;
  }

  /**
   * Decodes one chunk, handing every message to `sink` in order. Synchronous
   * unless a compressed message has to be inflated; before each inflation it
   * awaits `sink.waitForDemand()` (the reader's demand). A CodecError is thrown (or
   * rejected) only after the messages decoded before it were emitted.
   */
  decode(chunk: Uint8Array, sink: MessageSink): void | Promise<void> {
    let err: unknown;
    try {
      this.dec.decode(chunk, this.asm);
    } catch (e) {
      err = e;
    }
    const out = this.asm.out as unknown[];
    for (let i = 0; i < out.length; i++) {
      const m = out[i];
      if (isPending(m)) return this.decodeAsync(out.splice(0, out.length), i, sink, err);
      sink.onMessage(m as IncomingMessage);
    }
    out.length = 0;
    if (err !== undefined) throw err;
  }

  private async decodeAsync(
    items: unknown[],
    from: number,
    sink: MessageSink,
    err: unknown,
  ): Promise<void> {
    const emit = (m: IncomingMessage): void => sink.onMessage(m);
    for (let i = from; i < items.length; i++) {
      const m = items[i];
      if (!isPending(m)) {
        sink.onMessage(m as IncomingMessage);
        continue;
      }
      // One socket chunk can hold many small compressed messages that each
      // inflate up to maxMessageSize: inflate the next one only when the
      // reader has room, so amplification cannot outrun the read high-water mark.
      const wait = sink.waitForDemand();
      if (wait) await wait;
      const inflated: Uint8Array[] = [];
      await this.decompress(m.parts, inflated);
      // The codec's message layer delivers it: text validated, whole or (streamMessages) in its inflated pieces.
      finishInflated(m.kind, inflated, this.streaming, null, emit);
    }
    if (err !== undefined) throw err;
  }

  /**
   * Encodes a data message: synchronously into `out`, or, when compressing,
   * into a fresh list the returned promise resolves to (so that `out` stays
   * free for control frames meanwhile). `data` must not change until written.
   * One data message is encoded at a time (Connection waits for a compressing
   * one before the next), so the encoder's `out` is this message's until then.
   */
  encodeData(data: string | Uint8Array, out: Uint8Array[]): void | Promise<Uint8Array[]> {
    const enc = this.enc;
    // Text that needs neither compression nor fragmenting (3 bytes per UTF-16 unit at most) is encoded straight
    // into its frame, as the framer would, without the message object and dispatch (~7% of encoding 100 B text).
    if (typeof data === 'string' && this.agreement === null && data.length * 3 <= this.fragmentSize) {
      enc.writeText(FIN | OP_TEXT, data, out);
      return;
    }
    const m = typeof data === 'string' ? { type: 'text' as const, data } : { type: 'binary' as const, data };
    if (this.agreement === null) {
      enc.out = out;
      void this.frames().write(m, WHOLE);
      return;
    }
    const own: Uint8Array[] = [];
    enc.out = own;
    const p = this.frames().write(m, WHOLE);
    if (p) return p.then(() => own);
    for (let i = 0; i < own.length; i++) out.push(own[i]!);
  }

  /**
   * encodeData() for a message that is framed synchronously (see encodesNow); returns its payload's length in
   * bytes (for text: its UTF-8 length).
   */
  encodeNow(data: string | Uint8Array, out: Uint8Array[]): number {
    // Text sent as one frame is encoded straight into it, which tells its length; longer text is fragmented.
    if (typeof data === 'string' && data.length * 3 <= this.fragmentSize) return this.enc.writeText(FIN | OP_TEXT, data, out);
    this.enc.out = out;
    void this.frames().write(typeof data === 'string' ? { type: 'text', data } : { type: 'binary', data }, WHOLE);
    return typeof data === 'string' ? utf8Length(data) : data.byteLength;
  }

  /** True when encodeData() always frames synchronously: no permessage-deflate was agreed. */
  get encodesNow(): boolean {
    return this.agreement === null;
  }

  /**
   * True when the frames encodeData() returns for `bytes` (uncompressed) hold copies of all of them, so that the
   * caller's buffer is free once it returned: a client frame is a masked copy; a server frame is copied behind its
   * header only up to the encoder's coalescing limit, larger payloads are written as they are.
   */
  copies(bytes: Uint8Array): boolean {
    return this.role === 'client' || bytes.byteLength <= this.enc.copiesUpTo;
  }

  /** A frame sink writing into `out`, for the codec's MessageFramer (streamed bodies: connection.ts sendStreamed). */
  frameSink(out: Uint8Array[]): FrameSink {
    const enc = this.enc;
    return { onFrame: (b0, payload) => enc.write(b0, payload, out) };
  }

  /** Encodes a ping/pong/close frame (payload at most 125 bytes). */
  encodeControl(opcode: number, payload: Uint8Array, out: Uint8Array[]): void {
    this.enc.write(FIN | opcode, payload, out);
  }

  encodeClose(code: number | null, reason: string, out: Uint8Array[]): void {
    this.encodeControl(OP_CLOSE, code === null ? new Uint8Array(0) : encodeClosePayload(code, reason), out);
  }

  /** Releases zlib state (pending operations reject). */
  dispose(): void {
    this.pmd?.dispose();
  }
}
