/**
 * The seam between the codec core and the permessage-deflate extension (RFC 7692, in ./deflate/). The core only
 * needs the small interface below; keeping it here means the framing code compiles and runs without the extension
 * and the extension can change its internals freely.
 */
import type { Role } from './frame.js';

/** The negotiated permessage-deflate parameters (what the extension's negotiator hands to the codec). */
export interface DeflateAgreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/** What the decoder and encoder streams call. */
export interface DeflateCodec {
  /** Inflates one message (its frames' payloads in order) into `out`; rejects CodecError(1009) past the limit. */
  decompress(chunks: Uint8Array[], out: Uint8Array[]): Promise<void>;
  /** Deflates one message; the result is the payload to send with RSV1 on its first frame. */
  compress(data: Uint8Array): Promise<Uint8Array>;
  /** False for messages too small to be worth compressing. */
  shouldCompress(byteLength: number): boolean;
  dispose(): void;
}

export interface DeflateCodecOptions {
  maxMessageSize: number;
  threshold?: number;
  level?: number;
}

/** Creates the extension's per-stream state. */
export function createDeflate(agreement: DeflateAgreement, role: Role, opts: DeflateCodecOptions): DeflateCodec {
  void agreement;
  void role;
  void opts;
  throw new Error('permessage-deflate is not part of this build');
}
