/**
 * Per-connection permessage-deflate state (RFC 7692 section 7.2): one inflater for what the peer sends, one
 * deflater for what we send, each with its own serial queue.
 *
 * How zlib is driven, per direction (README-deflate.md has the measurements):
 * - Context takeover: one persistent zlib stream. Messages up to 64 KiB (compressed input to inflate, input to
 *   deflate) go through synchronous calls on its native handle (native-sync.ts) where the runtime passes the
 *   self-test; everything else is one threadpool write per message (Z_SYNC_FLUSH). A synchronous inflate yields to
 *   the event loop after every SYNC_INFLATE_SLICE bytes of output, so a highly compressed message never blocks it
 *   for longer than inflating that much takes.
 * - No context takeover: no state between messages. Messages <= 64 KiB go through zlib's one-shot synchronous
 *   functions (no persistent memory at all); larger ones through a fresh stream released right after, so a big
 *   message never blocks the event loop for long.
 *
 * Memory bound while inflating: output is produced in pieces of at most CHUNK_SIZE and counted as it comes; the
 * moment the total passes `maxMessageSize` zlib is stopped (the stream destroyed) and the call rejects with 1009.
 * The most output ever held is maxMessageSize + CHUNK_SIZE (the one-shot path holds at most 2 x SYNC_LIMIT).
 */
import { CodecError } from '../errors.js';
import type { Role } from '../frame.js';
import { SerialQueue } from './serial.js';
import {
  DEFAULT_LEVEL, DEFAULT_MEM_LEVEL, DEFAULT_THRESHOLD, MAX_WINDOW_BITS, MIN_WINDOW_BITS,
  type DeflateAgreement, type PerMessageDeflateOptions,
} from './types.js';
import { NativeSync, nativeSyncWorks } from './native-sync.js';
import { getZlib, type ZlibModule, type ZlibStream } from './zlib.js';
import { ZPipe } from './zpipe.js';

/** Appended to every compressed message before inflating, removed after deflating (RFC 7692 7.2.1, 7.2.2). */
const TRAILER = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
/** Largest message (input for deflate, output for inflate) handled by the blocking one-shot functions. */
export const SYNC_LIMIT = 64 * 1024;
/** Output chunk size of the zlib streams: the granularity of the inflate cap, and each stream's output buffer. */
export const CHUNK_SIZE = 16 * 1024;
/**
 * With context takeover, compressed messages up to this size are inflated synchronously on the persistent stream
 * (see native-sync.ts), in exchange for no threadpool round trip (a 16 KiB message costs 2-3x less that way,
 * README-deflate.md). Larger ones, rarely worth blocking the event loop for, take the threadpool.
 */
export const SYNC_INFLATE_INPUT = 64 * 1024;
/**
 * Output a synchronous inflate produces before it yields to the event loop (a macrotask) and goes on: what bounds
 * how long one message can block it, whatever its compression ratio (DEFLATE expands up to ~1032:1).
 */
export const SYNC_INFLATE_SLICE = 1024 * 1024;

/** Lets timers and I/O run between slices of a long synchronous inflate. */
const nextTask = (): Promise<void> => new Promise((resolve) => { globalThis.setTimeout(resolve, 0); });

/** Output buffer of the synchronous calls, per persistent stream: small messages fit, bigger ones loop. */
const NATIVE_CHUNK_SIZE = 4096;

/** A persistent zlib stream: its async wrapper, and its synchronous access where that works. */
interface Persistent { pipe: ZPipe; native: NativeSync | null }

function persistent(z: ZlibModule, stream: ZlibStream): Persistent {
  return { pipe: new ZPipe(stream), native: nativeSyncWorks(z) ? NativeSync.of(stream, NATIVE_CHUNK_SIZE) : null };
}

/** The parameters of one direction, from our point of view. */
interface Direction { windowBits: number; takeover: boolean }

/** Splits an agreement into what we inflate (the peer's side) and what we deflate (ours). */
export function directionParams(a: DeflateAgreement, role: Role): { inflate: Direction; deflate: Direction } {
  const server = { windowBits: a.serverMaxWindowBits, takeover: !a.serverNoContextTakeover };
  const client = { windowBits: a.clientMaxWindowBits, takeover: !a.clientNoContextTakeover };
  return role === 'server' ? { inflate: client, deflate: server } : { inflate: server, deflate: client };
}

function checkBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < MIN_WINDOW_BITS || bits > MAX_WINDOW_BITS) {
    throw new TypeError(`window bits must be an integer ${MIN_WINDOW_BITS}..${MAX_WINDOW_BITS}`);
  }
  return bits;
}

function isOutputLimitError(e: unknown): boolean {
  return e instanceof RangeError && (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

/**
 * Whether this zlib's one-shot inflate honours `maxOutputLength` (Node does since 14.5). Checked once per module
 * with a tiny bomb, so a runtime that ignores the option falls back to the counted stream path instead of
 * inflating without a bound.
 */
const syncCapWorks = new WeakMap<ZlibModule, boolean>();
function canInflateSync(z: ZlibModule): boolean {
  let ok = syncCapWorks.get(z);
  if (ok === undefined) {
    try {
      const bomb = z.deflateRawSync(new Uint8Array(8192), { finishFlush: z.constants.Z_SYNC_FLUSH });
      z.inflateRawSync(bomb, { finishFlush: z.constants.Z_SYNC_FLUSH, maxOutputLength: 1024 });
      ok = false;
    } catch (e) {
      ok = isOutputLimitError(e);
    }
    syncCapWorks.set(z, ok);
  }
  return ok;
}

function concat(chunks: readonly Uint8Array[], extra: Uint8Array | null, trim = 0): Uint8Array {
  let n = extra ? extra.length : 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n - trim);
  let o = 0;
  for (const c of chunks) {
    const take = Math.min(c.length, out.length - o);
    out.set(take === c.length ? c : c.subarray(0, take), o);
    o += take;
  }
  if (extra) out.set(extra, o);
  return out;
}

const tooBig = (max: number): CodecError =>
  new CodecError(1009, 'MESSAGE_TOO_BIG', `inflated message exceeds the ${max} byte limit`);
const corrupt = (): CodecError =>
  new CodecError(1007, 'INVALID_COMPRESSED_DATA', 'permessage-deflate data could not be inflated');
const disposed = (): CodecError =>
  new CodecError(1011, 'DEFLATE_DISPOSED', 'permessage-deflate state was disposed');

/** Inflates the peer's messages. */
class Inflater {
  private ctx: Persistent | null = null; // only with context takeover
  private readonly sync: boolean;

  constructor(private readonly z: ZlibModule, private readonly dir: Direction, private readonly max: number) {
    this.sync = !dir.takeover && canInflateSync(z);
  }

  private stream(): ZlibStream {
    return this.z.createInflateRaw({ windowBits: this.dir.windowBits, chunkSize: CHUNK_SIZE, flush: this.z.constants.Z_SYNC_FLUSH });
  }

  async inflate(chunks: readonly Uint8Array[], out: Uint8Array[]): Promise<void> {
    // An empty compressed payload carries no block header, so the trailer alone would leave zlib in the middle of
    // a stored block and silently swallow the next message. Senders use 0x00 for an empty message (RFC 7692
    // 7.2.3.6); we take an empty payload to mean the same and leave zlib alone.
    if (chunks.every((c) => c.length === 0)) return;
    const input = concat(chunks, TRAILER);
    const z = this.z;
    if (this.sync) {
      const limit = Math.min(this.max, SYNC_LIMIT);
      try {
        const r = z.inflateRawSync(input, { windowBits: this.dir.windowBits, finishFlush: z.constants.Z_SYNC_FLUSH, maxOutputLength: limit });
        if (r.length) out.push(r);
        return;
      } catch (e) {
        if (!isOutputLimitError(e)) throw corrupt();
        if (limit === this.max) throw tooBig(this.max);
        // Larger than the synchronous path takes: start over on a stream (no context, so nothing is lost).
      }
    }
    let ctx: Persistent;
    if (this.dir.takeover) {
      ctx = this.ctx ??= persistent(z, this.stream());
    } else {
      ctx = { pipe: new ZPipe(this.stream()), native: null };
    }
    const { pipe, native } = ctx;
    const got: Uint8Array[] = [];
    let total = 0;
    let ended: boolean;
    if (native && input.length <= SYNC_INFLATE_INPUT) {
      let offset = 0;
      for (;;) {
        // Also after a slice's pause: dispose() (the connection went away) or a failure may have happened meanwhile.
        if (pipe.failure !== null) throw pipe.failure instanceof CodecError ? pipe.failure : corrupt();
        let slice = 0;
        let left: number;
        try {
          left = native.run(offset === 0 ? input : input.subarray(offset), z.constants.Z_SYNC_FLUSH, (piece) => {
            total += piece.length;
            if (total > this.max) return false;
            got.push(piece);
            slice += piece.length;
            return slice < SYNC_INFLATE_SLICE;
          });
        } catch {
          const e = corrupt();
          pipe.abort(e);
          throw e;
        }
        if (total > this.max) {
          const e = tooBig(this.max);
          pipe.abort(e);
          throw e;
        }
        if (slice < SYNC_INFLATE_SLICE) {
          ended = left > 0;
          break;
        }
        // The slice is full: zlib may hold more output for what it consumed, and `left` bytes are still to come.
        // After a pause, run again from there (with nothing left to feed, that call only drains zlib's output).
        offset = input.length - left;
        await nextTask();
      }
    } else {
      try {
        await pipe.write(input, (chunk) => {
          total += chunk.length;
          if (total > this.max) pipe.abort(tooBig(this.max));
          else got.push(chunk);
        });
      } catch (e) {
        throw e instanceof CodecError ? e : corrupt();
      } finally {
        if (!this.dir.takeover) pipe.close(disposed());
      }
      ended = pipe.ended;
    }
    // The peer ended its DEFLATE stream with a BFINAL block (RFC 7692 7.2.3.4): its next message starts a new one,
    // so ours must too (zlib would otherwise silently ignore all further input).
    if (this.dir.takeover && ended) {
      pipe.close(disposed());
      this.ctx = null;
    }
    for (const c of got) out.push(c);
  }

  dispose(): void {
    this.ctx?.pipe.close(disposed());
  }
}

/** Deflates our messages. */
class Deflater {
  private ctx: Persistent | null = null; // only with context takeover
  private readonly windowBits: number;

  constructor(private readonly z: ZlibModule, private readonly dir: Direction, private readonly level: number, private readonly memLevel: number) {
    // zlib refuses windowBits 8 for raw deflate (it silently means 9 for the zlib format). Since zlib never emits a
    // distance beyond 2^wbits - 262, a 9-bit compressor still fits a peer's 8-bit (256 byte) window (RFC 7692 7.1.2.1).
    this.windowBits = Math.max(9, dir.windowBits);
  }

  async deflate(data: Uint8Array): Promise<Uint8Array> {
    const z = this.z;
    const opts = { windowBits: this.windowBits, level: this.level, memLevel: this.memLevel };
    if (!this.dir.takeover && data.length <= SYNC_LIMIT) {
      const r = z.deflateRawSync(data, { ...opts, finishFlush: z.constants.Z_SYNC_FLUSH });
      return r.subarray(0, r.length - TRAILER.length);
    }
    const stream = (): ZlibStream => z.createDeflateRaw({ ...opts, chunkSize: CHUNK_SIZE, flush: z.constants.Z_SYNC_FLUSH });
    const { pipe, native } = this.dir.takeover ? (this.ctx ??= persistent(z, stream())) : { pipe: new ZPipe(stream()), native: null };
    const got: Uint8Array[] = [];
    if (native && data.length <= SYNC_LIMIT) {
      if (pipe.failure !== null) throw pipe.failure;
      try {
        native.run(data, z.constants.Z_SYNC_FLUSH, (piece) => { got.push(piece); return true; });
      } catch (e) {
        pipe.abort(e);
        throw e;
      }
    } else {
      try {
        await pipe.write(data, (chunk) => { got.push(chunk); });
      } finally {
        if (!this.dir.takeover) pipe.close(disposed());
      }
    }
    // Nothing pending and nothing new (an empty message right after another flush): zlib emits no bytes at all. The
    // peer still needs a block header before the 00 00 ff ff it appends: send the RFC 7692 7.2.3.6 form, 0x00.
    if (got.every((c) => c.length === 0)) return Uint8Array.of(0x00);
    // Otherwise a sync flush ends with the empty stored block's 00 00 ff ff, which RFC 7692 7.2.1 says to remove.
    return got.length === 1 ? got[0]!.subarray(0, got[0]!.length - TRAILER.length) : concat(got, null, TRAILER.length);
  }

  dispose(): void {
    this.ctx?.pipe.close(disposed());
  }
}

/**
 * permessage-deflate for one connection. `decompress`/`compress` may be called without awaiting the previous
 * call: each direction runs its operations strictly in call order.
 */
export class PerMessageDeflate {
  private readonly inflater: Inflater;
  private readonly deflater: Deflater;
  private readonly inQueue = new SerialQueue();
  private readonly outQueue = new SerialQueue();
  private readonly threshold: number;
  private disposed = false;

  /** Throws Error when zlib is unavailable here (`deflateAvailable` false), TypeError for bad parameters. */
  constructor(agreement: DeflateAgreement, role: Role, opts: PerMessageDeflateOptions) {
    const z = getZlib();
    if (!z) throw new Error('permessage-deflate is not available in this runtime (no node:zlib)');
    checkBits(agreement.serverMaxWindowBits);
    checkBits(agreement.clientMaxWindowBits);
    if (!(opts.maxMessageSize >= 0)) throw new TypeError('maxMessageSize must be >= 0');
    const dirs = directionParams(agreement, role);
    this.threshold = opts.threshold ?? DEFAULT_THRESHOLD;
    this.inflater = new Inflater(z, dirs.inflate, opts.maxMessageSize);
    this.deflater = new Deflater(z, dirs.deflate, opts.level ?? DEFAULT_LEVEL, opts.memLevel ?? DEFAULT_MEM_LEVEL);
  }

  /**
   * Inflates one message (the payloads of its frames, in order, RSV1 already checked by the caller) and appends
   * the output chunks to `out` — only on success; the chunks may share an ArrayBuffer with other data.
   * Rejects with CodecError 1009 'MESSAGE_TOO_BIG' as soon as the output passes `maxMessageSize`, and with
   * CodecError 1007 'INVALID_COMPRESSED_DATA' when the data is not valid DEFLATE (see README for why 1007).
   */
  decompress(chunks: readonly Uint8Array[], out: Uint8Array[]): Promise<void> {
    if (this.disposed) return Promise.reject(disposed());
    return this.inQueue.run(() => this.inflater.inflate(chunks, out));
  }

  /**
   * Deflates one message payload; the result has the trailing 00 00 ff ff removed (RFC 7692 7.2.1). `data` must not
   * change until the promise settles.
   */
  compress(data: Uint8Array): Promise<Uint8Array> {
    if (this.disposed) return Promise.reject(disposed());
    return this.outQueue.run(() => this.deflater.deflate(data));
  }

  /** Whether a message of this size is worth compressing (>= threshold). */
  shouldCompress(byteLength: number): boolean {
    return byteLength >= this.threshold;
  }

  /** Releases both zlib streams; pending and later operations reject with CodecError 1011. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.inflater.dispose();
    this.deflater.dispose();
  }
}
