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
import type { ByteDuplex } from './channel.js';

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
