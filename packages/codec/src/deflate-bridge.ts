/**
 * The seam between the codec core and the permessage-deflate extension (RFC 7692, in ./deflate/). The core only
 * needs the small interface below; keeping it here means the framing code compiles and runs without the extension
 * and the extension can change its internals freely.
 */
import type { Role } from './frame.js';
import { PerMessageDeflate, type DeflateAgreement } from './deflate/index.js';

export type { DeflateAgreement };

/** What the decoder and encoder streams call (PerMessageDeflate implements it). */
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

/** Creates the extension's per-stream state. Throws where permessage-deflate is unavailable (no agreement exists). */
export function createDeflate(agreement: DeflateAgreement, role: Role, opts: DeflateCodecOptions): DeflateCodec {
  return new PerMessageDeflate(agreement, role, opts);
}
