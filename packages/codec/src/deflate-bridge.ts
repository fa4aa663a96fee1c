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

/**
 * Like createDeflate, but the zlib contexts are only created when first needed (the first compressed message
 * received, or the first data message sent). A connection that negotiated permessage-deflate but never uses it pays
 * no zlib memory, and frame-level checks work even where zlib is missing.
 */
export function lazyDeflate(agreement: DeflateAgreement, role: Role, opts: DeflateCodecOptions): DeflateCodec {
  let codec: DeflateCodec | null = null;
  let disposed = false;
  const get = (): DeflateCodec => {
    if (codec === null) {
      codec = createDeflate(agreement, role, opts);
      if (disposed) codec.dispose(); // later calls reject like any disposed extension
    }
    return codec;
  };
  return {
    decompress: (chunks, out) => get().decompress(chunks, out),
    compress: (data) => get().compress(data),
    shouldCompress: (n) => get().shouldCompress(n),
    dispose(): void {
      disposed = true;
      codec?.dispose();
    },
  };
}
