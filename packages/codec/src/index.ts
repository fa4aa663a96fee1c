/**
 * @streamsocket/codec: RFC 6455 framing and messages as WHATWG TransformStreams over synchronous cores, plus
 * permessage-deflate (RFC 7692). See README.md for the design notes (ownership, memory, backpressure, limits).
 */
export { CodecError, CloseCode } from './errors.js';
export { Opcode, isControlOpcode, isKnownOpcode } from './opcodes.js';
export type {
  Role,
  Frame,
  CodecLimits,
  StreamTuning,
  DecoderOptions,
  EncoderOptions,
  Message,
  TextMessage,
  BinaryMessage,
  PingMessage,
  PongMessage,
  CloseMessage,
  MessageChunk,
  PayloadSource,
  OutgoingMessage,
  IncomingMessage,
} from './frame.js';
export { FrameDecoder, type FrameSink } from './frame-decoder.js';
export { FrameEncoder } from './frame-encoder.js';
export { MessageAssembler, PendingInflate, finishInflated, type AssemblerOptions } from './assembler.js';
export { MessageFramer, type FramerHost } from './fragmenter.js';
export {
  FrameDecoderStream,
  FrameEncoderStream,
  MessageDecoderStream,
  MessageEncoderStream,
  WebSocketDecoderStream,
  WebSocketEncoderStream,
} from './streams.js';
export { encodeClosePayload, decodeClosePayload, isValidCloseCode } from './close.js';
export { mask, maskInto } from './mask.js';
export { takeOwnedBuffer, markOwned, OWNED_MIN } from './owned.js';
export { randomMaskKeys, BufferedMaskKeySource, type MaskKeySource } from './random.js';
export { Utf8Validator, isValidUtf8, encodeUtf8, decodeUtf8 } from './utf8.js';
export { DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';
export { DEFAULT_HIGH_WATER_MARK } from './strategies.js';
export {
  PerMessageDeflate,
  permessageDeflate,
  deflateAvailable,
  loadZlib,
  type DeflateAgreement,
  type DeflateOptions,
  type PerMessageDeflateOptions,
} from './deflate/index.js';
