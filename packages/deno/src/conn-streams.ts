/**
 * Binds a `Deno.Conn` (TCP or TLS) to the `{ readable, writable }` byte pair the session consumes.
 *
 * Why not `conn.readable` / `conn.writable` directly: in Deno both are created with "auto-close" — closing the
 * writable, cancelling the readable, or the readable reaching EOF closes the *whole* resource. A WebSocket needs
 * TCP half-close: the server half-closes after its close frame while still reading the client's FIN, the client
 * reads the server's close frame after its own, and cancelling the read side must not drop a close frame still
 * being written (measured on Deno 2.9: a write after the readable's EOF fails with BadResource). So the streams
 * here sit on `conn.read()` / `conn.write()` / `conn.closeWrite()`, and the resource is closed exactly once,
 * when both directions are finished.
 *
 * readable: pull-based (a read is issued only when the consumer wants bytes, plus one read ahead), so a
 *   consumer that stops reading leaves data in the kernel and TCP flow control slows the peer. Deno's read
 *   needs its buffer up front, so every connection pins one while it waits: the size adapts, from 4 KiB (idle
 *   and interactive connections) doubling after each read that filled it up to 64 KiB (bulk transfers). A read
 *   that filled at least half of its buffer is handed on as a view (no copy) and a fresh buffer is allocated; a
 *   smaller read is copied out (`slice`) and the buffer reused. Why: the decoder may keep views of a chunk
 *   (payloads), and a 20-byte view must not pin 64 KiB; the copy of a small read costs less than the allocation
 *   it replaces. So retained memory is at most 2x the bytes actually held.
 * writable: every chunk written during one turn (the echoes of all messages of one read, a frame header and its
 *   payload) is queued, and once the turn's microtasks are done (`process.nextTick`) a single writer copies the
 *   queue into one buffer of up to `GATHER_MAX` and hands it to ONE `conn.write()`: each `conn.write()` is an op
 *   and a `send()` (the 16 KiB echo spent 31% of its samples in `send` when each frame went out on its own).
 *   Chunks written while a `conn.write()` is in flight are gathered into the next one. Chunks above `GATHER_MAX`
 *   go out as they are (no copy). The gather buffers come from a small module-wide pool: a buffer is lent to
 *   Deno only until its write settles. `conn.write()` may write part of a buffer: the rest is retried.
 *   Backpressure: writers wait while more than `writeHighWaterMark` bytes are queued or in flight (the sink's
 *   promise, `direct.congested`/`drained()`), so the session's writer (and the user's) follows the kernel's
 *   send buffer.
 * direct: the session's `ByteDuplex.direct`, the same write path without the WritableStream in between (no
 *   promise, queue entry and microtask per frame); the session then also leaves payloads unjoined to their
 *   headers, since the gathering copies them once anyway.
 * close() -> flush, then `closeWrite()` (FIN; TLS sends close_notify first). abort() -> `close()` at once.
 * After the readable is cancelled the socket keeps being read (and the bytes dropped) until the peer's FIN,
 * bounded by `lingerTimeout` once our side is finished: closing a socket with unread data makes the kernel send
 * RST, which can destroy our own last frames (the close echo) in the peer's receive buffer.
 */
import type { DirectWriter } from '@streamsocket/session';

export interface ConnStreamsOptions {
  /** Bytes that arrived before the connection was handed over; delivered first. */
  head?: Uint8Array | undefined;
  /**
   * Largest read buffer. Default 64 KiB. Reads start at 4 KiB and the buffer doubles after each read that
   * filled it, and halves after a run of small reads, so idle connections pin 4 KiB, bulk transfers use 64 KiB.
   */
  readBufferSize?: number;
  /** Bytes queued on the writable before its writer waits. Default 64 KiB. */
  writeHighWaterMark?: number;
  /** ms to keep draining a finished connection for the peer's FIN before closing it. Default 2000. */
  lingerTimeout?: number;
}

export interface ConnStreams {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  /** The write side without the WritableStream (see the file comment); close and abort go through `writable`. */
  direct: DirectWriter;
  /** Resolves once the connection's resource is closed (never rejects). */
  closed: Promise<void>;
  /** Closes the resource now (both directions), e.g. on server shutdown after the close timeout. */
  destroy(): void;
}

/** The session's synchronous write path (ConnStreams.direct): `write()` queues for this turn's gathered write. */
export type { DirectWriter };

/** What the binding needs of a connection: Deno.Conn structurally (lets tests substitute a fake). */
export interface ConnLike {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

const DEFAULT_READ_BUFFER = 64 * 1024;
/** An idle connection keeps one read pending, and with it a buffer this small. */
const MIN_READ_BUFFER = 4 * 1024;
const DEFAULT_WRITE_HWM = 64 * 1024;
const DEFAULT_LINGER_MS = 2000;
/**
 * Queued chunks are copied together into writes of up to this size; a larger chunk goes out as it is. Above four
 * 16 KiB frames with their headers, so a 16 KiB echo's turn is one write.
 */
const GATHER_MAX = 128 * 1024;
/**
 * Gather buffers kept for reuse (module-wide; one is lent per `conn.write()` in flight, and a write's promise
 * settles on a later turn, so every connection writing at the same time holds one). With 8, a 16-connection 16 KiB
 * echo missed the pool on 37% of its writes, and each miss allocated 128 KiB that the GC then had to reclaim (54
 * mark-compacts in 3 s, against 20 for `Deno.serve`). Retained at most POOL_MAX x GATHER_MAX (4 MiB) per process,
 * and only as many as were ever in flight at once.
 */
const POOL_MAX = 32;
const pool: Uint8Array[] = [];

const noop = (): void => {};

/** Deno 2's Node-compatible `process` (a global in every module); a timer where it is missing. */
const proc = (globalThis as unknown as { process?: { nextTick<T>(fn: (arg: T) => void, arg: T): void } }).process;
const afterTurn: <T>(fn: (arg: T) => void, arg: T) => void =
  proc !== undefined ? (fn, arg) => proc.nextTick(fn, arg) : (fn, arg) => void setTimeout(fn, 0, arg);

export function connStreams(conn: ConnLike, opts: ConnStreamsOptions = {}): ConnStreams {
  const bufSize = opts.readBufferSize ?? DEFAULT_READ_BUFFER;
  const writeHwm = opts.writeHighWaterMark ?? DEFAULT_WRITE_HWM;
  const lingerMs = opts.lingerTimeout ?? DEFAULT_LINGER_MS;
  if (!(bufSize >= 1)) throw new RangeError('readBufferSize must be >= 1');
  if (!(writeHwm >= 0)) throw new RangeError('writeHighWaterMark must be >= 0');

  let resourceClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  // ---- read side state
  let readCtrl!: ReadableStreamDefaultController<Uint8Array>;
  /** The consumer no longer wants data (EOF delivered, cancelled or errored). */
  let readDone = false;
  /** The peer's FIN (or a read error) was seen: nothing more will come. */
  let readEof = false;
  let reading = false;
  let draining = false;
  let buf: Uint8Array | null = null;
  const minSize = Math.min(MIN_READ_BUFFER, bufSize);
  /** Size of the next read buffer: adapts between minSize and bufSize (see readOnce). */
  let size = minSize;
  let smallReads = 0;
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;

  // ---- write side state
  let writeDone = false;
  let failure: unknown;
  /** Chunks written and not yet handed to conn.write(), in order. */
  const queue: Uint8Array[] = [];
  /** Bytes queued or in a conn.write() that has not settled: what backpressure counts. */
  let pending = 0;
  /** The writer loop while it runs (a conn.write() in flight or about to be). */
  let pumping: Promise<void> | null = null;
  let scheduled = false;
  /** Settles once `pending` fell below the mark (resolves) or the write side failed (rejects); shared. */
  let drainWait: Promise<void> | null = null;
  let drainResolve: (() => void) | null = null;
  let drainReject: ((e: unknown) => void) | null = null;

  const closeResource = (): void => {
    if (resourceClosed) return;
    resourceClosed = true;
    if (lingerTimer !== undefined) clearTimeout(lingerTimer);
    try {
      conn.close();
    } catch {
      /* already closed by the runtime */
    }
    resolveClosed();
  };

  const maybeClose = (): void => {
    if (resourceClosed || !writeDone || !readDone) return;
    if (readEof) return closeResource();
    // Our side is finished but the peer has not sent FIN: drain for a while (see file comment).
    startDrain();
    if (lingerTimer === undefined) lingerTimer = setTimeout(closeResource, lingerMs);
  };

  /** One read. Returns the chunk to deliver, or null at EOF. */
  const readOnce = async (): Promise<Uint8Array | null> => {
    for (;;) {
      const b = (buf ??= new Uint8Array(size));
      const n = await conn.read(b);
      if (n === null) return null;
      if (n === 0) continue;
      // Adapt the buffer to the traffic: a full read means more is waiting (grow, up to readBufferSize);
      // a run of small reads means an interactive or idle connection (shrink, down to MIN_READ_BUFFER).
      if (n === b.byteLength) {
        size = Math.min(size * 2, bufSize);
        smallReads = 0;
      } else if (n * 4 <= b.byteLength && ++smallReads >= 4) {
        size = Math.max(size >> 1, minSize);
        smallReads = 0;
      }
      if (n * 2 >= b.byteLength) {
        buf = null; // handed on: the next read gets a fresh buffer
        return b.subarray(0, n);
      }
      if (b.byteLength !== size) buf = null; // resized: reallocate for the next read
      return b.slice(0, n);
    }
  };

  const startDrain = (): void => {
    if (draining || readEof || reading || resourceClosed) return;
    draining = true;
    void (async () => {
      try {
        while (!resourceClosed && (await readOnce()) !== null);
      } catch {
        /* reset or closed under us: either way nothing more to read */
      }
      readEof = true;
      draining = false;
      maybeClose();
    })();
  };

  const failRead = (e: unknown): void => {
    if (readDone) return;
    readDone = true;
    try {
      readCtrl.error(e);
    } catch {
      /* already closed */
    }
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        readCtrl = c;
        if (opts.head && opts.head.byteLength > 0) c.enqueue(opts.head);
      },
      async pull(c) {
        if (readDone || readEof) return;
        reading = true;
        let chunk: Uint8Array | null;
        try {
          chunk = await readOnce();
        } catch (e) {
          reading = false;
          readEof = true;
          if (!readDone) failRead(resourceClosed && failure !== undefined ? failure : e);
          maybeClose();
          return;
        }
        reading = false;
        if (chunk === null) {
          readEof = true;
          if (!readDone) {
            readDone = true;
            c.close();
          }
          maybeClose();
          return;
        }
        if (readDone) {
          // Cancelled while this read was in flight: keep draining towards the FIN.
          maybeClose();
          if (!resourceClosed) startDrain();
          return;
        }
        c.enqueue(chunk);
      },
      cancel() {
        readDone = true;
        if (writeDone) maybeClose();
        else if (!reading) startDrain();
        // If a read is in flight, pull() sees readDone when it returns and continues draining.
      },
    },
    { highWaterMark: bufSize, size: (c) => c.byteLength },
  );

  const failWrite = (e: unknown): void => {
    failure ??= e;
    queue.length = 0;
    pending = 0;
    const reject = drainReject;
    drainWait = drainResolve = drainReject = null;
    reject?.(failure);
  };

  const waitDrain = (): Promise<void> => {
    if (failure !== undefined) return Promise.reject(failure);
    return (drainWait ??= new Promise<void>((resolve, reject) => {
      drainResolve = resolve;
      drainReject = reject;
    }));
  };

  /** Takes the next write off the queue: queued chunks copied into a pooled buffer, or a single/large one as is. */
  const take = (): { out: Uint8Array; lent: Uint8Array | null } => {
    const first = queue[0]!;
    let total = first.byteLength;
    let k = 1;
    while (k < queue.length && total + queue[k]!.byteLength <= GATHER_MAX) total += queue[k++]!.byteLength;
    if (k === 1) {
      queue.shift();
      return { out: first, lent: null };
    }
    const buf = pool.pop() ?? new Uint8Array(GATHER_MAX);
    let o = 0;
    for (let i = 0; i < k; i++) {
      const c = queue[i]!;
      buf.set(c, o);
      o += c.byteLength;
    }
    queue.splice(0, k);
    return { out: buf.subarray(0, total), lent: buf };
  };

  /** The only place that calls conn.write(): writes until the queue is empty (what arrives meanwhile included). */
  const pump = async (): Promise<void> => {
    try {
      while (queue.length > 0 && failure === undefined) {
        const { out, lent } = take();
        let off = 0;
        while (off < out.byteLength) off += await conn.write(off === 0 ? out : out.subarray(off));
        if (lent !== null && pool.length < POOL_MAX) pool.push(lent); // Deno is done with it: the write settled
        pending -= out.byteLength;
        if (drainResolve !== null && pending <= writeHwm) {
          const resolve = drainResolve;
          drainWait = drainResolve = drainReject = null;
          resolve();
        }
      }
    } catch (e) {
      failWrite(e);
    }
  };
  const pumped = (): void => {
    pumping = null;
  };

  const startPump = (): void => {
    scheduled = false;
    if (pumping === null && queue.length > 0) pumping = pump().then(pumped);
  };

  /** Shared by the sink and `direct`: queues `chunk` for the end of this turn; false once writers should wait. */
  const send = (chunk: Uint8Array): boolean => {
    queue.push(chunk);
    pending += chunk.byteLength;
    // While a write is in flight, the loop picks this up when it settles; otherwise write at the end of the turn.
    if (pumping === null && !scheduled) {
      scheduled = true;
      afterTurn(startPump, undefined);
    }
    return pending <= writeHwm;
  };

  const direct: DirectWriter = {
    write(chunk: Uint8Array): boolean {
      if (failure !== undefined || writeDone || resourceClosed) return false;
      if (chunk.byteLength === 0) return true;
      return send(chunk);
    },
    get congested(): boolean {
      return pending > writeHwm;
    },
    drained(): Promise<void> {
      if (pending <= writeHwm || failure !== undefined || resourceClosed) return Promise.resolve();
      return waitDrain().catch(noop);
    },
  };

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (failure !== undefined) throw failure;
      if (!(chunk instanceof Uint8Array)) throw new TypeError('connection writable accepts Uint8Array chunks only');
      if (chunk.byteLength === 0) return undefined;
      return send(chunk) ? undefined : waitDrain();
    },
    async close() {
      try {
        startPump(); // what was written goes out before the FIN, without waiting for the end of the turn
        while (pumping !== null) await pumping;
        if (failure !== undefined) throw failure;
        await conn.closeWrite();
      } catch (e) {
        // The peer may have closed first (NotConnected/BrokenPipe after our last write): that is its right
        // after the close handshake, and the session decides whether it matters. Still report it.
        failWrite(e);
        writeDone = true;
        maybeClose();
        throw e;
      }
      writeDone = true;
      maybeClose();
    },
    abort(reason) {
      writeDone = true;
      failWrite(reason ?? new Error('aborted'));
      failRead(failure);
      readEof = true;
      closeResource();
    },
  });

  return {
    readable,
    writable,
    direct,
    closed,
    destroy() {
      writeDone = true;
      readEof = true;
      failWrite(new Error('connection destroyed'));
      failRead(failure);
      closeResource();
    },
  };
}
