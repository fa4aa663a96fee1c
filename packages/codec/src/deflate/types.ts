/**
 * The outcome of a permessage-deflate negotiation (RFC 7692 section 7), seen from the connection as a whole: both
 * roles hold the same agreement and each picks its own side of it (see `directionParams` in per-message.ts).
 */
export interface DeflateAgreement {
  /** The server resets its compression context after every message (RFC 7692 7.1.1.1). */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after every message (RFC 7692 7.1.1.2). */
  clientNoContextTakeover: boolean;
  /** Largest LZ77 window (base-2 log, 8..15) the server compresses with (RFC 7692 7.1.2.1). */
  serverMaxWindowBits: number;
  /** Largest LZ77 window (base-2 log, 8..15) the client compresses with (RFC 7692 7.1.2.2). */
  clientMaxWindowBits: number;
}

/**
 * Configuration of the negotiator (`permessageDeflate`) and of the compressor. The four negotiation fields mean the
 * same on both sides: a client offers them, a server enforces them on whatever the client offered.
 */
export interface DeflateOptions {
  /** Client: ask the server to reset its context per message. Server: always reset (and say so). Default false. */
  serverNoContextTakeover?: boolean;
  /** Client: promise to reset our context per message. Server: require the client to do so. Default false. */
  clientNoContextTakeover?: boolean;
  /** Client: ask the server to compress with at most this window. Server: never use more. 8..15, default 15. */
  serverMaxWindowBits?: number;
  /**
   * Client: `true` (default) offers `client_max_window_bits` without a value (we accept any size the server asks
   * for); a number additionally promises to use at most that window. Server: a number caps the window the client
   * may use; an offer that does not allow the server to set it is then declined. `true` on a server = no cap.
   */
  clientMaxWindowBits?: number | true;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024 (see README "permessage-deflate"). */
  threshold?: number;
  /** zlib compression level 0..9. Default 6 (zlib's default: the usual speed/ratio balance). */
  level?: number;
  /** zlib memLevel 1..9: size of the compressor's hash tables. Default 8 (zlib's default). */
  memLevel?: number;
}

/** Per-connection compressor settings that are not part of the negotiation. */
export interface PerMessageDeflateOptions {
  /** Largest inflated message in bytes; more fails with CodecError 1009 while inflating. */
  maxMessageSize: number;
  threshold?: number;
  level?: number;
  memLevel?: number;
}

/** The 8..15 range RFC 7692 section 7.1.2 allows for both window parameters. */
export const MIN_WINDOW_BITS = 8;
export const MAX_WINDOW_BITS = 15;
/** Default `threshold`: see README "permessage-deflate" for the measurement behind it. */
export const DEFAULT_THRESHOLD = 1024;
export const DEFAULT_LEVEL = 6;
export const DEFAULT_MEM_LEVEL = 8;
