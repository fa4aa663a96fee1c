/**
 * Binds a Bun TCP/TLS socket (`Bun.listen` / `Bun.connect`, callback based) to the `{ readable, writable }` byte
 * pair the session consumes. Measured on Bun 1.4.5 (see packages/bun/README.md, "Binding notes"):
 *
 * - `data` chunks: with `binaryType: 'uint8array'` every callback gets a Uint8Array over its own, freshly
 *   allocated ArrayBuffer; Bun does not reuse it for the next callback (32 MiB test: 70 chunks, 70 distinct
 *   buffers, content intact after all callbacks). So chunks are enqueued as they are, without a copy.
 * - readable backpressure: the queue counts bytes; when it reaches its high-water mark the socket is
 *   `pause()`d (Bun stops polling it for reads, the kernel buffer fills, TCP's window closes and the peer
 *   slows down); `pull()` — the consumer wants more — `resume()`s it. Memory per connection is bounded by the
 *   queue's high-water mark plus one chunk plus the kernel's receive buffer.
 * - writes: `socket.write()` is synchronous and returns how many bytes the kernel (or, for TLS, the TLS
 *   layer) accepted; Bun does not keep the rest (an 8 MiB write returns e.g. 3.9 MiB). The remainder is kept
 *   here (a view, no copy) and written again on `drain`; the sink's promise stays pending until it is all
 *   out, which is what makes the session's writer wait. A write that fits resolves synchronously. -1 means
 *   the socket is closed.
 * - close() -> `shutdown()` (FIN; we keep reading: sockets are opened with `allowHalfOpen`), abort() ->
 *   `terminate()`. After the readable is cancelled the socket keeps being read (and the bytes dropped) until
 *   the peer's FIN, bounded by `lingerTimeout` once our side is finished, so that the kernel does not answer
 *   unread data with an RST that could destroy our own last frames in flight.
 * - Bun reports the end of a connection as `end` (peer's FIN, while we can still write) or `close` (with an
 *   error for a reset; without one once both FINs were exchanged).
 */

export interface SocketStreamsOptions {
  /** Bytes that arrived before the streams were attached; delivered first. */
  head?: Uint8Array | undefined;
  /** Bytes the readable may queue before the socket is paused. Default 64 KiB. */
  readHighWaterMark?: number;
  /** ms to keep draining a finished connection for the peer's FIN before closing it. Default 2000. */
  lingerTimeout?: number;
}

const DEFAULT_READ_HWM = 64 * 1024;
const DEFAULT_LINGER_MS = 2000;

function closedError(message = 'socket closed'): Error {
  const e = new Error(message) as Error & { code: string };
  e.code = 'ECONNRESET';
  return e;
}

/**
 * One connection's streams. The socket's handlers (see `socketHandlers`) call the `on*` methods; the binding is
 * stored in `socket.data`.
 */
export class SocketBinding {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves when Bun reports the socket closed (never rejects). */
  readonly closed: Promise<void>;

  private socket: Bun.Socket<SocketBinding> | null = null;
  private readCtrl!: ReadableStreamDefaultController<Uint8Array>;
  private readDone = false;
  private readEof = false;
  private paused = false;
  private writeDone = false;
  private failure: unknown;
  private remainder: Uint8Array | null = null;
  private drainWait: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private socketClosed = false;
  private resolveClosed!: () => void;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly lingerMs: number;

  constructor(opts: SocketStreamsOptions = {}) {
    const hwm = opts.readHighWaterMark ?? DEFAULT_READ_HWM;
    if (!(hwm >= 0)) throw new RangeError('readHighWaterMark must be >= 0');
    this.lingerMs = opts.lingerTimeout ?? DEFAULT_LINGER_MS;
    this.closed = new Promise<void>((r) => (this.resolveClosed = r));
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.readCtrl = c;
          if (opts.head && opts.head.byteLength > 0) c.enqueue(opts.head);
        },
        pull: () => {
          if (this.paused) {
            this.paused = false;
            this.socket?.resume();
          }
        },
        cancel: () => {
          this.readDone = true;
          // Keep reading (and dropping) so the peer's FIN is seen; see the file comment.
          if (this.paused) {
            this.paused = false;
            this.socket?.resume();
          }
          this.maybeClose();
        },
      },
      { highWaterMark: hwm, size: (c) => c.byteLength },
    );
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => {
        if (this.failure !== undefined) throw this.failure;
        this.writeDone = true;
        if (!this.socketClosed) this.socket?.shutdown();
        this.maybeClose();
      },
      abort: (reason) => {
        this.writeDone = true;
        this.fail(reason ?? new Error('aborted'));
        this.destroy();
      },
    });
  }

  /** Called from the socket's `open` handler (or right away for an already open socket). */
  attach(socket: Bun.Socket<SocketBinding>): void {
    this.socket = socket;
    socket.data = this;
    if (this.paused) socket.pause();
  }

  /** Closes the socket now, both directions. */
  destroy(): void {
    this.writeDone = true;
    this.readEof = true;
    if (this.failure === undefined) this.fail(closedError('connection destroyed'));
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    if (!this.socketClosed) this.socket?.terminate();
  }

  private write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('socket writable accepts Uint8Array chunks only');
    if (chunk.byteLength === 0) return undefined;
    const s = this.socket;
    if (!s || this.socketClosed) throw closedError();
    const n = s.write(chunk);
    if (n < 0) throw closedError();
    if (n === chunk.byteLength) return undefined;
    this.remainder = chunk.subarray(n);
    return new Promise<void>((resolve, reject) => {
      this.drainWait = { resolve, reject };
    });
  }

  onData(chunk: Uint8Array): void {
    if (this.readDone) return; // cancelled: dropping while waiting for the FIN
    this.readCtrl.enqueue(chunk);
    if (!this.paused && (this.readCtrl.desiredSize ?? 0) <= 0) {
      this.paused = true;
      this.socket?.pause();
    }
  }

  onDrain(): void {
    const rest = this.remainder;
    if (!rest || !this.socket) return;
    const n = this.socket.write(rest);
    if (n < 0) return this.fail(closedError());
    if (n < rest.byteLength) {
      this.remainder = rest.subarray(n);
      return;
    }
    this.remainder = null;
    const w = this.drainWait;
    this.drainWait = null;
    w?.resolve();
  }

  /** The peer's FIN. */
  onEnd(): void {
    this.readEof = true;
    if (!this.readDone) {
      this.readDone = true;
      try {
        this.readCtrl.close();
      } catch {
        /* already closed */
      }
    }
    this.maybeClose();
  }

  onError(err: Error): void {
    this.fail(err);
  }

  onClose(err?: Error): void {
    this.socketClosed = true;
    this.readEof = true;
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    if (err) this.fail(err);
    // Without an error Bun closed after both FINs: an EOF for the reader. A writer still active lost its socket.
    this.onEnd();
    if (!this.writeDone) this.fail(closedError());
    this.writeDone = true;
    this.resolveClosed();
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    if (!this.readDone) {
      this.readDone = true;
      try {
        this.readCtrl.error(this.failure);
      } catch {
        /* already closed */
      }
    }
    const w = this.drainWait;
    this.drainWait = null;
    this.remainder = null;
    w?.reject(this.failure);
  }

  private maybeClose(): void {
    if (this.socketClosed || !this.readDone || !this.writeDone) return;
    if (this.readEof) {
      this.socket?.end();
      return;
    }
    if (this.lingerTimer === undefined) this.lingerTimer = setTimeout(() => this.socket?.terminate(), this.lingerMs);
  }
}

/** Handlers shared by every socket of a listener or dialer: they forward to the socket's binding. */
export const socketHandlers: Bun.SocketHandler<SocketBinding> = {
  binaryType: 'uint8array',
  data(socket, chunk) {
    socket.data?.onData(chunk);
  },
  drain(socket) {
    socket.data?.onDrain();
  },
  end(socket) {
    socket.data?.onEnd();
  },
  error(socket, err) {
    socket.data?.onError(err);
  },
  close(socket, err) {
    socket.data?.onClose(err);
  },
};
