/**
 * Binds a Bun TCP/TLS socket (`Bun.listen` / `Bun.connect`, callback based) to what the session consumes: the
 * session's `ByteChannel` (`channel`: callbacks in, direct writes out, no WHATWG streams), or the
 * `{ readable, writable }` byte pair, created on first access for other consumers. Measured on Bun 1.4.5 (see
 * packages/bun/README.md, "Binding notes"):
 *
 * - `data` chunks: with `binaryType: 'uint8array'` every callback gets a Uint8Array over its own, freshly
 *   allocated ArrayBuffer; Bun does not reuse it for the next callback (32 MiB test: 70 chunks, 70 distinct
 *   buffers, content intact after all callbacks). So chunks are handed on as they are, without a copy: to the
 *   channel's sink (push mode) or pending read, else queued.
 * - input backpressure: the queue (the readable's, or the channel's while its sink is paused or no read is
 *   pending) counts bytes; when it reaches its high-water mark the socket is `pause()`d (Bun stops polling it
 *   for reads, the kernel buffer fills, TCP's window closes and the peer slows down); `pull()`, a channel
 *   read or `resume()` — the consumer wants more — `resume()`s it. Memory per connection is bounded by the
 *   queue's high-water mark plus one chunk plus the kernel's receive buffer.
 * - writes: Bun's sockets have no cork() and no writev, and each `socket.write()` is a `send()` (measured: 82% of
 *   the 16 B echo's samples when every frame was written on its own). So chunks written during one event-loop iteration (the
 *   echoes of every message of one socket read, a frame header and its payload) are gathered and copied into
 *   one buffer, sent with ONE `socket.write()`. The flush runs once per event-loop iteration for every socket
 *   that wrote (one `setImmediate`), after all the iteration's reads and their microtasks: measured against a
 *   flush per socket on `process.nextTick` (right after that socket's own cascade), +14% msg per server CPU-s
 *   at 16 B and +23% at 100 B in the same run, and lower latency: the peer, woken by the first send, finds
 *   the other sockets' replies already there instead of being woken again for each. The copy goes into one
 *   module-wide scratch buffer: the flush is synchronous and Bun either takes the bytes (into the kernel, or
 *   the TLS layer) or refuses them, it keeps no reference, so the same scratch serves every socket. Chunks
 *   above `GATHER_MAX` go out as they are (after what was gathered before them).
 * - partial writes: `socket.write()` returns the bytes accepted and does not keep the rest (an 8 MiB TLS write
 *   returned 3.9 MiB), -1 once closed. The rest goes into a backlog (a copy when it came from the scratch, a
 *   view otherwise), which later flushes append to and `drain` writes out. Backpressure: the binding is
 *   congested while backlog + gathered bytes reach `writeHighWaterMark`; a sink write then returns a promise
 *   that settles once the backlog is out, so the session's writer waits. Memory per connection is bounded by
 *   that mark plus one loop iteration's writes.
 * - `direct` (the session's `ByteDuplex.direct`): the same write path without the WritableStream in between (no
 *   promise, queue entry and microtask per frame); the session then also skips copying payloads behind their
 *   headers, since the gathering copies them once anyway.
 * - close() -> `shutdown()` (FIN; we keep reading: sockets are opened with `allowHalfOpen`), abort() ->
 *   `terminate()`. After the readable is cancelled the socket keeps being read (and the bytes dropped) until
 *   the peer's FIN, bounded by `lingerTimeout` once our side is finished, so that the kernel does not answer
 *   unread data with an RST that could destroy our own last frames in flight.
 * - Bun reports the end of a connection as `end` (peer's FIN, while we can still write) or `close` (with an
 *   error for a reset; without one once both FINs were exchanged).
 */
import type { ByteChannel, ChannelSink, DirectWriter } from '@streamsocket/session';

/**
 * `SocketBinding.channel`: the session's `ByteChannel` (`end()` flushes then `shutdown()`s, `abort()` is `terminate()`,
 * `cancel()` keeps draining until the peer's FIN, bounded by `lingerTimeout`).
 */
export type SocketChannel = ByteChannel;
export type { ChannelSink, DirectWriter };

export interface SocketStreamsOptions {
  /** Bytes that arrived before the streams were attached; delivered first. */
  head?: Uint8Array | undefined;
  /** Bytes the readable (or the channel) may queue before the socket is paused. Default 64 KiB. */
  readHighWaterMark?: number;
  /** ms to keep draining a finished connection for the peer's FIN before closing it. Default 2000. */
  lingerTimeout?: number;
  /**
   * Bytes written and not yet accepted by the socket (gathered for the end of the loop iteration, or refused by a
   * partial write) at which writers wait. Default 64 KiB.
   */
  writeHighWaterMark?: number;
}

const DEFAULT_READ_HWM = 64 * 1024;
const DEFAULT_WRITE_HWM = 64 * 1024;
const DEFAULT_LINGER_MS = 2000;
/**
 * Chunks up to this size are gathered (copied) into the loop iteration's single write; larger ones go out unchanged,
 * where one more `send()` costs little next to the bytes. Also the most one loop iteration gathers before writing.
 */
const GATHER_MAX = 64 * 1024;

/** Chunks up to this size are copied byte by byte into the scratch (see flushGathered). */
const SMALL_COPY = 32;

/** Shared by every binding: a flush copies into it and writes it synchronously, see the file comment. */
let scratch = new Uint8Array(GATHER_MAX);

const noop = (): void => {};
const DONE: ReadableStreamReadResult<Uint8Array> = Object.freeze({ done: true, value: undefined });

/** Bun's `setImmediate` (Node-compatible); this package's typings do not include Node's globals. */
const setImmediate_ = (globalThis as unknown as { setImmediate(fn: () => void): unknown }).setImmediate;

/**
 * Bindings that gathered chunks during this event-loop iteration. One `setImmediate` flushes them all once the
 * iteration's I/O callbacks (every socket read in it, and their microtasks) are done.
 */
let dirty: SocketBinding[] = [];
function flushAll(): void {
  const list = dirty;
  dirty = [];
  for (let i = 0; i < list.length; i++) list[i]!.flushTurn();
}

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
  /** Resolves when Bun reports the socket closed (never rejects). */
  readonly closed: Promise<void>;
  /**
   * The write side without the WritableStream (see the file comment); with the WHATWG pair, close and abort still
   * go through `writable`. The same object as `channel`.
   */
  readonly direct: DirectWriter;
  /**
   * The whole binding without WHATWG streams (the session's `ByteChannel`): `read()` for the opening handshake,
   * then `listen()` (push mode, `pause()`/`resume()`), the `direct` writes, `end()`, `abort()`, `cancel()`. The
   * session uses it alone when present, so `readable` and `writable`, created on first access, never exist for a
   * session-driven socket. One consumer reads the socket: the channel or the readable, not both.
   */
  readonly channel: SocketChannel;

  private socket: Bun.Socket<SocketBinding> | null = null;
  private readonly readHwm: number;
  private readable_: ReadableStream<Uint8Array> | undefined = undefined;
  private writable_: WritableStream<Uint8Array> | undefined = undefined;
  private readCtrl: ReadableStreamDefaultController<Uint8Array> | undefined = undefined;
  /**
   * Chunks not yet read while there is no readable (the head, what arrives while no channel read is pending, or
   * while the channel's sink is paused), in order. Null when empty: an idle socket holds no array.
   */
  private queue: Uint8Array[] | null = null;
  private queued = 0;
  private readResolve: ((r: ReadableStreamReadResult<Uint8Array>) => void) | null = null;
  private readReject: ((e: unknown) => void) | null = null;
  /** Why the input ended, when it ended with an error. */
  private readError: unknown = undefined;
  /** Push mode (channel.listen). */
  private sink: ChannelSink | null = null;
  private sinkPaused = false;
  private delivering = false;
  private cancelled = false;
  private inputReported = false;
  private writeReported = false;
  private ending: Promise<void> | null = null;
  private readDone = false;
  private readEof = false;
  private paused = false;
  private writeDone = false;
  private failure: unknown;
  private readonly writeHwm: number;
  /** Chunks written this loop iteration, not yet handed to the socket (flushed by `flushTurn`). */
  private gathered: Uint8Array[] = [];
  private gatheredBytes = 0;
  private flushScheduled = false;
  /** Bytes the socket refused (partial writes), in order, written again on `drain`. */
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  /** Settles once the backlog is out (resolves) or the socket failed (rejects); shared by every waiter. */
  private drainWait: Promise<void> | null = null;
  private drainResolve: (() => void) | null = null;
  private drainReject: ((e: unknown) => void) | null = null;
  private socketClosed = false;
  private resolveClosed!: () => void;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly lingerMs: number;

  constructor(opts: SocketStreamsOptions = {}) {
    const hwm = opts.readHighWaterMark ?? DEFAULT_READ_HWM;
    if (!(hwm >= 0)) throw new RangeError('readHighWaterMark must be >= 0');
    this.readHwm = hwm;
    this.lingerMs = opts.lingerTimeout ?? DEFAULT_LINGER_MS;
    const whwm = opts.writeHighWaterMark ?? DEFAULT_WRITE_HWM;
    if (!(whwm >= 0)) throw new RangeError('writeHighWaterMark must be >= 0');
    this.writeHwm = whwm;
    this.channel = new Channel(this);
    this.direct = this.channel;
    this.closed = new Promise<void>((r) => (this.resolveClosed = r));
    if (opts.head && opts.head.byteLength > 0) this.push(opts.head);
  }

  /** The socket's bytes as a ReadableStream, created on first access (see `channel`). */
  get readable(): ReadableStream<Uint8Array> {
    if (this.readable_ !== undefined) return this.readable_;
    if (this.sink !== null || this.readResolve !== null) throw new TypeError('the socket is read through its channel');
    this.readable_ = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.readCtrl = c;
          // What arrived before the readable was made (the head, at least) is its first content.
          const q = this.queue;
          this.queue = null;
          this.queued = 0;
          if (q !== null) for (const chunk of q) c.enqueue(chunk);
          if (this.readError !== undefined) c.error(this.readError);
          else if (this.readEof) c.close();
          else if ((c.desiredSize ?? 0) <= 0) this.pauseSocket();
          else this.resumeSocket();
        },
        pull: () => this.resumeSocket(),
        cancel: () => this.cancelInput(),
      },
      { highWaterMark: this.readHwm, size: (c) => c.byteLength },
    );
    return this.readable_;
  }

  /** The write side as a WritableStream, created on first access (see `channel`). */
  get writable(): WritableStream<Uint8Array> {
    return (this.writable_ ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
      abort: (reason) => this.abortWrite(reason),
    }));
  }

  private pauseSocket(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket?.pause();
  }

  private resumeSocket(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket?.resume();
  }

  /** Queues an input chunk for a later read or delivery; stops reading the socket once the queue is full. */
  private push(chunk: Uint8Array): void {
    (this.queue ??= []).push(chunk);
    this.queued += chunk.byteLength;
    if (this.queued >= this.readHwm) this.pauseSocket();
  }

  /** The consumer leaves: keep reading (and dropping) so the peer's FIN is seen; see the file comment. */
  cancelInput(): void {
    this.readDone = true;
    this.cancelled = true;
    this.queue = null;
    this.queued = 0;
    this.settleRead();
    this.resumeSocket();
    this.maybeClose();
  }

  /** A pending channel read learns that the input ended (cleanly or not). */
  private settleRead(): void {
    const resolve = this.readResolve;
    if (resolve === null) return;
    const reject = this.readReject!;
    this.readResolve = this.readReject = null;
    if (this.readError !== undefined) reject(this.readError);
    else resolve(DONE);
  }

  // ---- channel (see `channel`)

  /** @internal */
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.readable_ !== undefined || this.sink !== null) return Promise.reject(new TypeError('the socket already has a reader'));
    const q = this.queue;
    if (q !== null) {
      const value = q.shift()!;
      this.queued -= value.byteLength;
      if (q.length === 0) this.queue = null;
      if (this.queued < this.readHwm && !this.readEof) this.resumeSocket();
      return Promise.resolve({ done: false, value });
    }
    if (this.readError !== undefined) return Promise.reject(this.readError);
    if (this.readDone || this.readEof) return Promise.resolve(DONE);
    if (this.readResolve !== null) return Promise.reject(new TypeError('a read is already pending'));
    this.resumeSocket();
    return new Promise<ReadableStreamReadResult<Uint8Array>>((resolve, reject) => {
      this.readResolve = resolve;
      this.readReject = reject;
    });
  }

  /** @internal */
  listen(sink: ChannelSink): void {
    if (this.readable_ !== undefined || this.sink !== null) throw new TypeError('the socket already has a reader');
    this.sink = sink;
    this.deliver();
    if (this.writeDone && !this.writeReported) this.reportWriteEnd(this.failure ?? null);
  }

  /** @internal No `onData` until resume(): chunks are queued, and the socket paused once the queue is full. */
  pauseSink(): void {
    this.sinkPaused = true;
  }

  /** @internal */
  resumeSink(): void {
    if (!this.sinkPaused) return;
    this.sinkPaused = false;
    this.deliver();
  }

  /** Push mode: hands queued chunks to the sink while it is not paused, then the input's end or more reading. */
  private deliver(): void {
    const sink = this.sink;
    if (sink === null || this.delivering) return;
    this.delivering = true;
    try {
      while (!this.sinkPaused && !this.cancelled && this.queue !== null) {
        const q = this.queue;
        const chunk = q.shift()!;
        this.queued -= chunk.byteLength;
        if (q.length === 0) this.queue = null;
        sink.onData(chunk);
      }
    } finally {
      this.delivering = false;
    }
    if (this.sinkPaused || this.cancelled || this.queue !== null) return;
    if (this.readEof || this.readError !== undefined) this.reportInput();
    else this.resumeSocket();
  }

  /** Tells the sink, once, how the input ended (not after a cancel: the reader left). */
  private reportInput(): void {
    const sink = this.sink;
    if (sink === null || this.inputReported || this.cancelled) return;
    this.inputReported = true;
    if (this.readError !== undefined) sink.onReadError(this.readError);
    else sink.onEof();
  }

  private reportWriteEnd(err: unknown): void {
    const sink = this.sink;
    if (sink === null || this.writeReported) return;
    this.writeReported = true;
    sink.onWriteEnd(err);
  }

  /** @internal Flush, FIN; settles once done (rejects if the socket failed). */
  end(): Promise<void> {
    return (this.ending ??= this.closeWrite().then(
      () => this.reportWriteEnd(null),
      (e: unknown) => {
        this.reportWriteEnd(e);
        throw e;
      },
    ));
  }

  /** The sink's abort and the channel's: drop what is queued, tear the socket down. */
  abortWrite(reason: unknown): void {
    this.writeDone = true;
    this.fail(reason ?? new Error('aborted'));
    this.destroy();
  }

  /** Called from the socket's `open` handler (or right away for an already open socket). */
  attach(socket: Bun.Socket<SocketBinding>): void {
    if (this.socket === socket) return;
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

  /** True while the bytes not yet accepted by the socket reach the write high-water mark. */
  get congested(): boolean {
    return this.backlogBytes + this.gatheredBytes >= this.writeHwm;
  }

  /** Whether `direct` writes are still taken (they are discarded once the write side failed or finished). */
  get acceptsWrites(): boolean {
    return this.failure === undefined && !this.writeDone && !this.socketClosed && this.socket !== null;
  }

  private write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('socket writable accepts Uint8Array chunks only');
    if (chunk.byteLength === 0) return undefined;
    if (!this.socket || this.socketClosed) throw closedError();
    return this.send(chunk) ? undefined : this.waitDrain();
  }

  /** Shared by the sink and `direct`: gathers `chunk` for this loop iteration's write; false once congested. */
  send(chunk: Uint8Array): boolean {
    const n = chunk.byteLength;
    if (n > GATHER_MAX) {
      this.flushGathered(); // keep the order
      this.put(chunk);
      return !this.congested;
    }
    if (this.gatheredBytes + n > GATHER_MAX) this.flushGathered();
    this.gathered.push(chunk);
    this.gatheredBytes += n;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After this loop iteration's callbacks and their microtasks: see the file comment.
      if (dirty.length === 0) setImmediate_(flushAll);
      dirty.push(this);
    }
    return !this.congested;
  }

  /** End of the loop iteration: write what was gathered, and wake writers if that emptied the backlog. */
  flushTurn(): void {
    this.flushScheduled = false;
    this.flushGathered();
    if (this.backlogBytes === 0) this.wake();
  }

  /** Hands the gathered chunks to the socket with one write (copied into the scratch, or the single one as is). */
  private flushGathered(): void {
    const g = this.gathered;
    const count = g.length;
    if (count === 0) return;
    const total = this.gatheredBytes;
    this.gatheredBytes = 0;
    if (this.failure !== undefined || this.socketClosed || !this.socket) {
      g.length = 0;
      return;
    }
    if (count === 1) {
      const only = g[0]!;
      g.length = 0;
      this.put(only);
      return;
    }
    // Behind a backlog the bytes are kept: copy into a buffer of their own, not the shared scratch.
    const kept = this.backlogBytes > 0;
    if (!kept && scratch.byteLength < total) scratch = new Uint8Array(total);
    const buf = kept ? new Uint8Array(total) : scratch;
    let o = 0;
    for (let i = 0; i < count; i++) {
      const c = g[i]!;
      const n = c.byteLength;
      if (n <= SMALL_COPY) {
        // A frame of a small message: a loop beats a TypedArray.set() call in JavaScriptCore at this size.
        for (let k = 0; k < n; k++) buf[o + k] = c[k]!;
      } else buf.set(c, o);
      o += n;
    }
    g.length = 0; // reused: no array per turn
    if (kept) return this.put(buf);
    // From the scratch: written by offset and length (no subarray view per flush), the unsent rest copied out.
    const w = this.socket!.write(buf, 0, total);
    if (w < 0) return this.fail(closedError());
    if (w === total) return;
    this.backlog.push(buf.slice(w, total));
    this.backlogBytes += total - w;
  }

  /** Writes `bytes` now, or queues them behind the backlog (a view: they are not the scratch). */
  private put(bytes: Uint8Array): void {
    if (this.backlogBytes > 0) {
      this.backlog.push(bytes);
      this.backlogBytes += bytes.byteLength;
      return;
    }
    const n = this.socket!.write(bytes);
    if (n < 0) return this.fail(closedError());
    if (n === bytes.byteLength) return;
    const rest = bytes.subarray(n);
    this.backlog.push(rest);
    this.backlogBytes += rest.byteLength;
  }

  waitDrain(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return (this.drainWait ??= new Promise<void>((resolve, reject) => {
      this.drainResolve = resolve;
      this.drainReject = reject;
    }));
  }

  private wake(): void {
    const resolve = this.drainResolve;
    this.drainWait = this.drainResolve = this.drainReject = null;
    resolve?.();
  }

  /** The sink's close: what was written goes out first, then the FIN. */
  private async closeWrite(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.flushGathered();
    while (this.backlogBytes > 0) await this.waitDrain();
    if (this.failure !== undefined) throw this.failure;
    this.writeDone = true;
    if (!this.socketClosed) this.socket?.shutdown();
    this.maybeClose();
  }

  onData(chunk: Uint8Array): void {
    if (this.readDone) return; // cancelled or ended: dropping while waiting for the FIN
    const c = this.readCtrl;
    if (c !== undefined) {
      c.enqueue(chunk);
      if ((c.desiredSize ?? 0) <= 0) this.pauseSocket();
      return;
    }
    const sink = this.sink;
    if (sink !== null && !this.sinkPaused && this.queue === null) return sink.onData(chunk);
    const resolve = this.readResolve;
    if (resolve !== null) {
      this.readResolve = this.readReject = null;
      resolve({ done: false, value: chunk });
      return;
    }
    this.push(chunk);
  }

  onDrain(): void {
    const s = this.socket;
    if (this.backlogBytes === 0 || !s) return;
    const q = this.backlog;
    while (q.length > 0) {
      const c = q[0]!;
      const n = s.write(c);
      if (n < 0) return this.fail(closedError());
      this.backlogBytes -= n;
      if (n < c.byteLength) {
        q[0] = c.subarray(n);
        return; // the next 'drain' continues
      }
      q.shift();
    }
    this.wake();
  }

  /** The peer's FIN. */
  onEnd(): void {
    this.readEof = true;
    if (!this.readDone) {
      this.readDone = true;
      try {
        this.readCtrl?.close();
      } catch {
        /* already closed */
      }
      this.settleRead();
      if (!this.sinkPaused && this.queue === null) this.reportInput(); // else once the queue is delivered
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
      // The input ends with the failure: queued chunks are dropped (as an errored stream drops them).
      this.readDone = true;
      this.readError = this.failure;
      this.queue = null;
      this.queued = 0;
      try {
        this.readCtrl?.error(this.failure);
      } catch {
        /* already closed */
      }
      this.settleRead();
      this.reportInput();
    }
    this.reportWriteEnd(this.failure);
    this.gathered.length = 0;
    this.gatheredBytes = 0;
    this.backlog.length = 0;
    this.backlogBytes = 0;
    const reject = this.drainReject;
    this.drainWait = this.drainResolve = this.drainReject = null;
    reject?.(this.failure);
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

/** `SocketBinding.channel` (and `.direct`, the same object). */
class Channel implements SocketChannel {
  constructor(private readonly b: SocketBinding) {}
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    return this.b.read();
  }
  cancel(): Promise<void> {
    this.b.cancelInput();
    return Promise.resolve();
  }
  releaseLock(): void {}
  listen(sink: ChannelSink): void {
    this.b.listen(sink);
  }
  pause(): void {
    this.b.pauseSink();
  }
  resume(): void {
    this.b.resumeSink();
  }
  end(): Promise<void> {
    return this.b.end();
  }
  abort(reason?: unknown): void {
    this.b.abortWrite(reason);
  }
  write(chunk: Uint8Array): boolean {
    const b = this.b;
    if (!b.acceptsWrites) return false;
    if (chunk.byteLength === 0) return true;
    return b.send(chunk);
  }
  get congested(): boolean {
    return this.b.congested;
  }
  drained(): Promise<void> {
    const b = this.b;
    if (!b.congested || !b.acceptsWrites) return Promise.resolve();
    return b.waitDrain().catch(noop);
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
