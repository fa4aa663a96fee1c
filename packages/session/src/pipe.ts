/**
 * In-memory full-duplex byte pipe: two connected `{ readable, writable }` ends,
 * the same shape a TCP connection has in Deno, Cloudflare `connect()` and Node's
 * `Duplex.toWeb()`. For tests (ours and users') and for in-process bridges.
 *
 * Each direction is an identity TransformStream whose writable and readable
 * sides both count *bytes* against `highWaterMark`, so a writer sees
 * `writer.ready` pending once ~2 x highWaterMark bytes are in flight and the
 * reader does not read: real backpressure, like a socket's send/receive buffers.
 *
 * Semantics mirror TCP: closing an end's writable delivers EOF to the other
 * end's readable (half-close); `reset()` tears both directions down with an
 * error, like an RST. Chunks are passed by reference (no copy): as with any
 * WritableStream, don't mutate a chunk after writing it.
 */
import { TransformStream } from '@web-std/stream';

/**
 * A reader's read() result (the DOM's ReadableStreamReadResult, restated: @types/node alone lacks the name, and
 * these types must check in a Node project without the DOM library).
 */
export type ReadResult<T> = { done: false; value: T } | { done: true; value: T | undefined };

export interface ByteDuplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  /**
   * Optional synchronous write path to the same transport (e.g. @streamsocket/node's socket
   * binding). When present, the session writes its frames through it once the handshake is done;
   * close, abort and errors still go through `writable`.
   */
  direct?: DirectWriter | undefined;
  /**
   * Optional: the whole transport without WHATWG streams (e.g. @streamsocket/node's socket binding). When
   * present, the session reads, writes, closes and aborts through it alone, from the opening handshake on, and
   * never touches `readable` or `writable`, so a binding may create those lazily and a session-driven connection
   * holds none of their state (in Node 20 the pair costs ~7 KB of heap per connection).
   */
  channel?: ByteChannel | undefined;
}

/**
 * A transport's byte channel (see ByteDuplex.channel). The opening handshake reads it like a
 * ReadableStreamDefaultReader (one `read()` at a time); the session then switches it to push mode with
 * `listen()`: chunks are handed to the sink as they arrive, and `pause()`/`resume()` carry the backpressure,
 * so an idle connection holds no pending read (no promise, no resolvers, no suspended async function).
 * The writing half is a DirectWriter plus `end()`/`abort()`; its end is reported to the sink too.
 */
export interface ByteChannel extends DirectWriter {
  /** The next chunk, `{ done: true }` after the peer's clean EOF or a cancel; rejects once the input failed. */
  read(): Promise<ReadResult<Uint8Array>>;
  /** Stops reading: a pending read resolves `{ done: true }`, further input is discarded, the sink hears no more. */
  cancel(reason?: unknown): Promise<void>;
  /** No-op (a channel has no lock): lets the channel stand where a reader is released. */
  releaseLock(): void;
  /**
   * Push mode from now on (no `read()` after it): chunks not yet read are delivered first, synchronously, then
   * each chunk as it arrives, in order; the input's end and the write side's end are reported once each.
   */
  listen(sink: ChannelSink): void;
  /** No more `onData` until `resume()` (the transport stops reading once its own small buffer is full). */
  pause(): void;
  resume(): void;
  /** Flushes what was written, then half-closes (FIN); resolves once done, rejects if the transport failed. */
  end(): Promise<void>;
  /** Drops what is queued and tears the transport down (RST-like); pending and later reads reject. */
  abort(reason?: unknown): void;
}

/** What a channel in push mode reports to (ByteChannel.listen). */
export interface ChannelSink {
  onData(chunk: Uint8Array): void;
  /** The peer's clean EOF, after every chunk (not while paused). */
  onEof(): void;
  /** The input failed (reset, error, abort); queued chunks are dropped. Reported at once, paused or not. */
  onReadError(e: unknown): void;
  /** The write side ended: `null` once end() completed, else the error (abort, failure). */
  onWriteEnd(e: unknown): void;
}

/** A synchronous write path beside a WritableStream (see ByteDuplex.direct). */
export interface DirectWriter {
  /** Writes now, in order; false once the transport's buffer is at its high-water mark. Never throws. */
  write(chunk: Uint8Array): boolean;
  /** True while the buffer is at or above its high-water mark. */
  readonly congested: boolean;
  /** Resolves once no longer congested (at once if not), or when the transport failed or closed. */
  drained(): Promise<void>;
}

export interface PipeEnd extends ByteDuplex {
  /** Abruptly breaks both directions (both ends' pending reads/writes reject). */
  reset(reason?: unknown): void;
}

export interface PipeOptions {
  /** Bytes buffered per direction on each of the two queues. Default 16 KiB. */
  highWaterMark?: number;
}

// Tolerates non-byte chunks so that transform() can reject them with a clear TypeError.
const byteSize = (chunk: Uint8Array): number => (chunk instanceof Uint8Array ? chunk.byteLength : 0);

interface Channel {
  stream: TransformStream<Uint8Array, Uint8Array>;
  error(reason: unknown): void;
}

function channel(hwm: number): Channel {
  let ctrl: TransformStreamDefaultController<Uint8Array> | undefined;
  const stream = new TransformStream<Uint8Array, Uint8Array>(
    {
      start(c) {
        ctrl = c;
      },
      transform(chunk, c) {
        if (!(chunk instanceof Uint8Array)) throw new TypeError('pipe accepts Uint8Array chunks only');
        // Empty writes carry nothing on a byte stream; drop them like a socket would.
        if (chunk.byteLength > 0) c.enqueue(chunk);
      },
    },
    { highWaterMark: hwm, size: byteSize },
    { highWaterMark: hwm, size: byteSize },
  ) as TransformStream<Uint8Array, Uint8Array>;
  return {
    stream,
    error(reason) {
      try {
        ctrl?.error(reason);
      } catch {
        /* already closed or errored */
      }
    },
  };
}

/** Returns two connected ends: what one writes, the other reads. */
export function createPipePair(opts: PipeOptions = {}): [PipeEnd, PipeEnd] {
  const hwm = opts.highWaterMark ?? 16 * 1024;
  if (!(hwm >= 0)) throw new RangeError('highWaterMark must be >= 0');
  const ab = channel(hwm);
  const ba = channel(hwm);
  const reset = (reason: unknown = new Error('connection reset')): void => {
    ab.error(reason);
    ba.error(reason);
  };
  return [
    { readable: ba.stream.readable, writable: ab.stream.writable, reset },
    { readable: ab.stream.readable, writable: ba.stream.writable, reset },
  ];
}
