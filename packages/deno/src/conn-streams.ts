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
 * writable: writes are queued and a single flusher writes them; consecutive small chunks (frame headers,
 *   small messages) are coalesced into one `conn.write()` of up to 64 KiB (one syscall instead of many), large
 *   chunks go out as they are (no copy). `conn.write()` may write part of a buffer: the rest is retried. The
 *   sink's promise is pending while more than `writeHighWaterMark` bytes are queued, which is what makes the
 *   session's writer (and the user's) wait: backpressure follows the kernel's send buffer.
 * close() -> flush, then `closeWrite()` (FIN; TLS sends close_notify first). abort() -> `close()` at once.
 * After the readable is cancelled the socket keeps being read (and the bytes dropped) until the peer's FIN,
 * bounded by `lingerTimeout` once our side is finished: closing a socket with unread data makes the kernel send
 * RST, which can destroy our own last frames (the close echo) in the peer's receive buffer.
 */

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
  /** Resolves once the connection's resource is closed (never rejects). */
  closed: Promise<void>;
  /** Closes the resource now (both directions), e.g. on server shutdown after the close timeout. */
  destroy(): void;
}

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
/** Chunks smaller than this are coalesced with their neighbours into one write. */
const COALESCE_BELOW = 16 * 1024;
const COALESCE_MAX = 64 * 1024;

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
  const queue: Uint8Array[] = [];
  let queued = 0;
  let flushing: Promise<void> | null = null;
  let spaceWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;

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
    const w = spaceWaiter;
    spaceWaiter = null;
    w?.reject(failure);
  };

  /** Writes everything queued; the only place that calls conn.write(). */
  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      let out = queue.shift()!;
      if (out.byteLength < COALESCE_BELOW && queue.length > 0 && queue[0]!.byteLength < COALESCE_BELOW) {
        // Gather following small chunks into one buffer.
        let total = out.byteLength;
        let k = 0;
        while (k < queue.length && queue[k]!.byteLength < COALESCE_BELOW && total + queue[k]!.byteLength <= COALESCE_MAX) {
          total += queue[k]!.byteLength;
          k++;
        }
        const merged = new Uint8Array(total);
        merged.set(out, 0);
        let off = out.byteLength;
        for (const part of queue.splice(0, k)) {
          merged.set(part, off);
          off += part.byteLength;
        }
        out = merged;
      }
      let off = 0;
      while (off < out.byteLength) off += await conn.write(off === 0 ? out : out.subarray(off));
      queued -= out.byteLength;
      if (spaceWaiter && queued <= writeHwm) {
        const w = spaceWaiter;
        spaceWaiter = null;
        w.resolve();
      }
    }
  };

  const kick = (): void => {
    if (flushing) return;
    flushing = flush().then(
      () => {
        flushing = null;
        // Chunks queued while the last write was finishing.
        if (queue.length > 0) kick();
      },
      (e: unknown) => {
        flushing = null;
        queue.length = 0;
        queued = 0;
        failWrite(e);
      },
    );
  };

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (failure !== undefined) throw failure;
      if (!(chunk instanceof Uint8Array)) throw new TypeError('connection writable accepts Uint8Array chunks only');
      if (chunk.byteLength === 0) return undefined;
      queue.push(chunk);
      queued += chunk.byteLength;
      kick();
      if (queued <= writeHwm) return undefined;
      return new Promise<void>((resolve, reject) => {
        spaceWaiter = { resolve, reject };
      });
    },
    async close() {
      try {
        while (flushing) await flushing;
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
