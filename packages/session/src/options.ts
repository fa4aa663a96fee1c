/**
 * Every limit and timeout of the stack, in one place, with the defaults the
 * session applies. Lower layers (handshake, codec) get their values from here,
 * so a user tunes the whole stack through one options object.
 */
import type { DeflateOptions } from '@streamsocket/codec';

export interface SessionLimits {
  /** Max bytes of the HTTP head (request line/status line + headers + CRLFCRLF). Default 16 KiB. */
  maxHeadSize?: number;
  /** Max number of header lines in the HTTP head. Default 100. */
  maxHeaderCount?: number;
  /** Max payload of one frame (before inflation). Default 16 MiB. */
  maxFrameSize?: number;
  /**
   * Max size of one reassembled message; with permessage-deflate this bounds the
   * *inflated* size too, so it is the zip-bomb guard. Default 16 MiB.
   */
  maxMessageSize?: number;
}

export interface SessionTimeouts {
  /** ms to complete the opening handshake (both roles). 0 disables. Default 10 000. */
  handshakeTimeout?: number;
  /** ms to wait for the peer's close frame, and (client) for the server to close TCP. Default 5 000. */
  closeTimeout?: number;
  /** ms between keepalive pings when nothing was received. 0 (default) = off, no timer. */
  keepaliveInterval?: number;
  /** ms to wait for any frame after a keepalive ping before declaring the peer dead (1006). Default 10 000. */
  keepaliveTimeout?: number;
  /** ms without any message in either direction before closing with 1001. 0 (default) = off. */
  idleTimeout?: number;
}

export interface SessionBuffers {
  /**
   * High-water mark, in bytes, of the user's writable (message payload bytes;
   * strings count their UTF-16 length). `writer.ready` waits above it. Default 64 KiB.
   */
  writeHighWaterMark?: number;
  /**
   * High-water mark, in bytes, of decoded messages queued in the user's readable
   * (binary: byteLength, text: string length). The socket is not read while the
   * queue is above it. Default 64 KiB.
   */
  readHighWaterMark?: number;
  /** Split outgoing messages into frames of at most this many payload bytes. Default: codec's. */
  fragmentSize?: number;
  /**
   * Deliver each data message as `{ type, stream }` as soon as its first bytes arrive, its payload piece by piece
   * (message-stream.ts), instead of whole: memory stays bounded by the high-water marks whatever a message's size,
   * so `maxMessageSize: Infinity` is safe for uncompressed messages (compressed ones are inflated whole, up to
   * maxMessageSize). Default false. Sending a stream as a message body needs no option.
   */
  streamMessages?: boolean;
}

export interface CommonOptions extends SessionLimits, SessionTimeouts, SessionBuffers {
  /**
   * permessage-deflate (RFC 7692): `true` or options to offer (client) / accept
   * (server) it. Default false. Silently unavailable where the runtime lacks zlib.
   */
  deflate?: boolean | DeflateOptions;
}

export interface ResolvedOptions {
  maxHeadSize: number;
  maxHeaderCount: number;
  maxFrameSize: number;
  maxMessageSize: number;
  handshakeTimeout: number;
  closeTimeout: number;
  keepaliveInterval: number;
  keepaliveTimeout: number;
  idleTimeout: number;
  writeHighWaterMark: number;
  readHighWaterMark: number;
  fragmentSize: number | undefined;
  streamMessages: boolean;
  deflate: DeflateOptions | null;
}

export const DEFAULTS: Readonly<Omit<ResolvedOptions, 'fragmentSize' | 'deflate'>> = Object.freeze({
  streamMessages: false,
  maxHeadSize: 16 * 1024,
  maxHeaderCount: 100,
  maxFrameSize: 16 * 1024 * 1024,
  maxMessageSize: 16 * 1024 * 1024,
  handshakeTimeout: 10_000,
  closeTimeout: 5_000,
  keepaliveInterval: 0,
  keepaliveTimeout: 10_000,
  idleTimeout: 0,
  writeHighWaterMark: 64 * 1024,
  readHighWaterMark: 64 * 1024,
});

function num(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min) {
    throw new RangeError(`${name} must be a number >= ${min}, got ${String(v)}`);
  }
  return v;
}

/** Validates and fills in defaults. Throws RangeError for nonsense values. */
export function resolveOptions(o: CommonOptions = {}): ResolvedOptions {
  const maxMessageSize = num('maxMessageSize', o.maxMessageSize, DEFAULTS.maxMessageSize, 1);
  return {
    maxHeadSize: num('maxHeadSize', o.maxHeadSize, DEFAULTS.maxHeadSize, 64),
    maxHeaderCount: num('maxHeaderCount', o.maxHeaderCount, DEFAULTS.maxHeaderCount, 1),
    // A frame can never usefully exceed the message limit.
    maxFrameSize: Math.min(num('maxFrameSize', o.maxFrameSize, DEFAULTS.maxFrameSize, 125), Math.max(maxMessageSize, 125)),
    maxMessageSize,
    handshakeTimeout: num('handshakeTimeout', o.handshakeTimeout, DEFAULTS.handshakeTimeout, 0),
    closeTimeout: num('closeTimeout', o.closeTimeout, DEFAULTS.closeTimeout, 1),
    keepaliveInterval: num('keepaliveInterval', o.keepaliveInterval, DEFAULTS.keepaliveInterval, 0),
    keepaliveTimeout: num('keepaliveTimeout', o.keepaliveTimeout, DEFAULTS.keepaliveTimeout, 1),
    idleTimeout: num('idleTimeout', o.idleTimeout, DEFAULTS.idleTimeout, 0),
    writeHighWaterMark: num('writeHighWaterMark', o.writeHighWaterMark, DEFAULTS.writeHighWaterMark, 0),
    readHighWaterMark: num('readHighWaterMark', o.readHighWaterMark, DEFAULTS.readHighWaterMark, 0),
    streamMessages: o.streamMessages === true,
    fragmentSize: o.fragmentSize === undefined ? undefined : num('fragmentSize', o.fragmentSize, 0, 1),
    deflate: o.deflate === undefined || o.deflate === false ? null : o.deflate === true ? {} : o.deflate,
  };
}
