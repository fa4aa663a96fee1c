import type { DeflateAgreement } from './deflate-bridge.js';
import type { MaskKeySource } from './random.js';

/** Which end of the connection this codec instance is. Decides masking rules (RFC 6455 5.1, 5.3). */
export type Role = 'client' | 'server';

/**
 * One WebSocket frame. `payload` is always unmasked. Frames produced by the decoder may be views into the input
 * chunks (see "Ownership" in the README).
 */
export interface Frame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** Size limits, checked against frame headers before any payload byte is buffered (close code 1009). */
export interface CodecLimits {
  /** Largest accepted frame payload in bytes. Default: `maxMessageSize`. */
  maxFrameSize?: number | undefined;
  /** Largest accepted message (sum of its frame payloads; after inflate when compressed). Default 64 MiB. */
  maxMessageSize?: number | undefined;
}

/** Queue sizes of the stream wrappers, in payload bytes. See README "Backpressure". */
export interface StreamTuning {
  /** High-water mark of the writable side. Default 64 KiB (bytes, or payload bytes for frames/messages). */
  writableHighWaterMark?: number | undefined;
  /** High-water mark of the readable side. Default 64 KiB (bytes, or payload bytes for frames/messages). */
  readableHighWaterMark?: number | undefined;
}

export interface DecoderOptions extends CodecLimits, StreamTuning {
  role: Role;
  /** The negotiated permessage-deflate parameters; when set, RSV1 on the first frame of a data message is legal. */
  deflate?: DeflateAgreement | null | undefined;
  /**
   * Message decoders only: deliver data messages as a sequence of {@link MessageChunk} (one per frame or per received
   * piece of a frame) instead of one buffered message, so that a message of any size passes with bounded memory.
   * Default false.
   */
  streamMessages?: boolean | undefined;
  /**
   * Frame decoder only: deliver a data frame whose payload spans input chunks as several frames (the first keeps its
   * opcode and RSV1, the rest are continuations, FIN only on the last) instead of buffering it whole. Equivalent at
   * the message level; used by `streamMessages`. Default false.
   */
  splitFrames?: boolean | undefined;
}

export interface EncoderOptions extends StreamTuning {
  role: Role;
  /** The negotiated permessage-deflate parameters; when set, data messages above the threshold are compressed. */
  deflate?: DeflateAgreement | null | undefined;
  /** Data messages larger than this are sent as several frames of at most this many payload bytes. Default: off. */
  fragmentSize?: number | undefined;
  /** Messages smaller than this are sent uncompressed even when deflate is negotiated (passed to the extension). */
  compressThreshold?: number | undefined;
  /**
   * Server role: payloads up to this many bytes are copied behind their header into one chunk; larger ones follow a
   * separate header chunk without being copied. Default 16 KiB (see README "Ownership and copies").
   */
  coalesceLimit?: number | undefined;
  /** Source of client masking keys. Default: the shared buffered CSPRNG source. Tests only. */
  maskKeys?: MaskKeySource | undefined;
}

export interface TextMessage { type: 'text'; data: string }
export interface BinaryMessage { type: 'binary'; data: Uint8Array }
export interface PingMessage { type: 'ping'; data: Uint8Array }
export interface PongMessage { type: 'pong'; data: Uint8Array }
/** Decoded close without a status code has code 1005 (RFC 6455 7.1.5) and an empty reason. */
export interface CloseMessage { type: 'close'; code: number; reason: string }

/** A complete message; both directions use this union. */
export type Message = TextMessage | BinaryMessage | PingMessage | PongMessage | CloseMessage;

/**
 * One piece of a streamed data message (decoder `streamMessages: true`; also accepted by encoders). A message is the
 * run of chunks from one with `first` to one with `last` (a one-piece message has both). Text pieces are raw UTF-8
 * that was validated so far, and may split a code point: decode them with a streaming TextDecoder.
 */
export interface MessageChunk {
  type: 'chunk';
  kind: 'text' | 'binary';
  data: Uint8Array;
  first: boolean;
  last: boolean;
}

/** A payload produced piece by piece: each piece becomes at least one frame (see README "Streaming messages"). */
export type PayloadSource<T> = ReadableStream<T> | AsyncIterable<T> | Iterable<T>;

/** What the encoders accept: every {@link Message}, plus a close without code, streamed payloads and chunks. */
export type OutgoingMessage =
  | Message
  | { type: 'close'; code?: number | undefined; reason?: string | undefined }
  | { type: 'binary'; data: PayloadSource<Uint8Array> }
  | { type: 'text'; data: Uint8Array | PayloadSource<string | Uint8Array> } // Uint8Array: pre-encoded UTF-8
  | MessageChunk;

/** What the message decoders produce: messages, plus chunks when `streamMessages` is on. */
export type IncomingMessage = Message | MessageChunk;
