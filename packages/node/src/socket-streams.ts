/**
 * Binds a connected `net.Socket` (or `tls.TLSSocket`) to the `{ readable, writable }` byte pair the session
 * consumes. This is the only place where Node's stream model meets WHATWG streams, so it is where copies, lost
 * backpressure and per-chunk costs would hide; all three are avoided deliberately:
 *
 * - readable: pull-based. Every 'data' Buffer is enqueued as a plain `Uint8Array` *view* of the same memory (no
 *   copy; a view rather than the Buffer itself so consumers get standard `slice()` copy semantics, not Buffer's
 *   aliasing one). The queue counts bytes; once it holds `readHighWaterMark` bytes the socket is paused, so the
 *   kernel's receive window closes and the peer is slowed down. `pull()` (the consumer wants more) resumes it.
 * - writable: `write()` hands the chunk to `socket.write()` (Node wraps a Uint8Array without copying). The first
 *   write of a turn corks the socket and a `process.nextTick` uncorks it, so everything written in one pass of the
 *   event loop (typically the echoes of every message of one socket read, a frame header and its payload) leaves
 *   in ONE syscall instead of one write() per chunk; chunks up to 1 KiB are even copied into one buffer (a writev
 *   of many tiny iovecs costs more than the copy). Writes resolve synchronously (no callback, no
 *   promise) while Node's buffer holds less than `writeHighWaterMark` bytes; beyond it the write's promise waits
 *   for 'drain', which is what makes the session's writer wait too.
 * - close() → `socket.end()` (FIN after everything queued was flushed), abort() → `socket.destroy()` (RST-like).
 * - a socket error, or the socket closing before a clean EOF, errors both streams, so the session reports 1006.
 *
 * The socket is destroyed once both directions are finished, so a file descriptor never outlives its streams.
 *
 * `channel` is the same binding without WHATWG streams (ByteDuplex.channel): `read()` is answered from a small
 * queue with the same high-water mark and pausing (the opening handshake reads that way), then `listen(sink)`
 * hands every chunk to the session as it arrives, with `pause()`/`resume()` for backpressure; writes take the
 * corked path above. The session uses only the channel when it is there, and `readable`/`writable` are created
 * on first access, so a session-driven socket never allocates the pair (in Node 20 they, with a reader, a writer
 * and a pending read, cost ~7 KB of heap) and, idle, holds no pending read either.
 *
 * Memory: one `SocketBinding` object per socket holds the whole state; the underlying source and sink are tiny
 * prototype-method objects and the socket listeners are module-level functions that find the binding through a
 * symbol on the socket, so a connection allocates no closures here (an idle server holds thousands of these).
 *
 * Measured against `stream.Duplex.toWeb(socket)`: see packages/node/README.md and bench/node-binding.
 */
import type { ByteChannel, ChannelSink, ConnectionOwner, DirectWriter, ServedConnection } from '@streamsocket/session';
import type { Socket } from 'node:net';
import { ReadableStream, WritableStream } from '@web-std/stream';

/**
 * `SocketStreams.channel`: the session's `ByteChannel` (a view of Node's Buffer per chunk; `end()` is `socket.end()`
 * after the chunks gathered this turn, `abort()` is `socket.destroy()`, `cancel()` drains until the peer's FIN).
 */
export type SocketChannel = ByteChannel;
export type { ChannelSink, DirectWriter };

export interface SocketStreamsOptions {
  /**
   * Bytes the readable may queue before the socket is paused. Default 64 KiB: one Node read (Node reads up to
   * 64 KiB at a time), so a consumer that keeps up never pauses the socket, one that does not holds at most
   * ~128 KiB (this queue plus the kernel buffer) per connection.
   */
  readHighWaterMark?: number;
  /**
   * Bytes Node's socket buffer may hold (written, not yet accepted by the kernel) before a write waits for
   * 'drain'. Default 64 KiB. Node's own 16 KiB mark is below a single 16 KiB frame, so honouring it would cost
   * an event-loop turn per frame on bulk traffic; this bound keeps the buffer just as finite.
   */
  writeHighWaterMark?: number;
  /**
   * Bytes that arrived before the socket was handed over (e.g. the `head` of Node's 'upgrade' event, or what
   * followed a response head). They are delivered first, before anything read from the socket.
   */
  head?: Uint8Array | Uint8Array[] | undefined;
  /**
   * After the readable was cancelled while the write side had already finished, how long (ms) to keep reading
   * and discarding before destroying the socket. Closing a socket that still has unread input makes the kernel
   * send RST, which can destroy our final bytes (a refusal response, a close frame) before the peer reads them;
   * draining until the peer's FIN (or this bound) avoids that. Default 2000.
   */
  lingerMs?: number;
}

export interface SocketStreams {
  /** Created on first access. Don't use it together with `channel`'s reads: one consumer reads the socket. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Created on first access. */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * The same write side without the WritableStream in between, for a consumer that writes many small chunks
   * per turn (the session writes every frame through it when present): a direct write is queued to the socket
   * within the call, so it is ordered after every `writable` write that already reached the sink (a write made once the
   * stream started while no earlier write was pending: after `await writer.write(...)` or `await writer.ready`), and
   * before any that has not (don't mix the two for data without awaiting). Close and abort go through `writable`, and so do errors (`writer.closed` rejects).
   */
  direct: DirectWriter;
  /**
   * The whole binding without WHATWG streams (the same object as `direct`): `read()` (one at a time), `cancel()`,
   * `write()`/`congested`/`drained()`, `end()` (flush, FIN), `abort()`, `closed`. What the session drives when present.
   */
  channel: SocketChannel;
  /** Resolves once the socket is closed (its 'close' event; made on first access). Never rejects. */
  readonly closed: Promise<void>;
  /** Destroys the socket at once. */
  destroy(): void;
  /** ServedConnection.track: `owner.released(this)` once the socket closed. */
  track(owner: ConnectionOwner): void;
}

/** Default readable high-water mark, in bytes. */
export const DEFAULT_READ_HIGH_WATER_MARK = 64 * 1024;
/** Default bound on Node's socket write buffer before a write waits for 'drain', in bytes. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

const byteLength = (chunk: Uint8Array): number => chunk.byteLength;

function closedError(): Error {
  const e = new Error('socket closed before the stream ended') as Error & { code: string };
  e.code = 'ECONNRESET';
  return e;
}

/** Where a socket's listeners find their binding (a symbol: invisible to user code walking the socket). */
const kBinding = Symbol('streamsocket.binding');
type BoundSocket = Socket & { [kBinding]?: SocketBinding };

// Listeners shared by every socket: EventEmitter calls them with `this` = the socket.
function onData(this: BoundSocket, chunk: Buffer): void {
  this[kBinding]!.onData(chunk);
}
function onEnd(this: BoundSocket): void {
  this[kBinding]!.onEnd();
}
function onError(this: BoundSocket, err: Error): void {
  this[kBinding]!.fail(err);
}
function onClose(this: BoundSocket): void {
  this[kBinding]!.onClose();
}
function onDrain(this: BoundSocket): void {
  this[kBinding]!.onDrain();
}
function destroySocket(socket: Socket): void {
  socket.destroy();
}
function uncork(b: SocketBinding): void {
  b.corked = false;
  b.flushGathered();
  b.socket.uncork();
}

/**
 * Chunks up to this size written in one turn are copied into one buffer at the end of the turn: one socket write of
 * one contiguous buffer instead of a writev of many tiny iovecs (Node converts, queues and hands over each chunk).
 */
const GATHER_LIMIT = 1024;

const DONE: ReadableStreamReadResult<Uint8Array> = Object.freeze({ done: true, value: undefined });

class SocketBinding {
  readCtrl: ReadableStreamDefaultController<Uint8Array> | undefined;
  writeCtrl: WritableStreamDefaultController | undefined;
  readable: ReadableStream<Uint8Array> | undefined = undefined;
  writable: WritableStream<Uint8Array> | undefined = undefined;
  readDone = false;
  writeDone = false;
  /** Why the input ended, when it ended with an error (reads reject with it). */
  readError: unknown = undefined;
  /**
   * Chunks not yet read while there is no readable (the head, then what arrives while no channel read is
   * pending): the channel's queue, handed to the readable if one is made. Null when empty, so an idle socket
   * holds no array.
   */
  queue: Uint8Array[] | null = null;
  queued = 0;
  /** A pending channel read. */
  readResolve: ((r: ReadableStreamReadResult<Uint8Array>) => void) | undefined = undefined;
  readReject: ((e: unknown) => void) | undefined = undefined;
  /** Push mode (channel.listen). */
  sink: ChannelSink | undefined = undefined;
  sinkPaused = false;
  delivering = false;
  cancelled = false;
  /** The sink heard about the input's end / the write side's end. */
  inputReported = false;
  writeReported = false;
  /** What end() returns, created on first call. */
  closedWait: Promise<void> | undefined = undefined;
  closedResolve: (() => void) | undefined = undefined;
  closedReject: ((e: unknown) => void) | undefined = undefined;
  /** True between the first write of a turn and the nextTick that uncorks. */
  corked = false;
  /** Small chunks of this turn not yet handed to the socket (see GATHER_LIMIT). */
  gathered: Uint8Array[] = [];
  gatheredBytes = 0;
  lingering = false;
  failure: unknown = undefined;
  /** Settles at the next 'drain' (resolves) or failure (rejects); shared by every waiter, created on demand. */
  drainWait: Promise<void> | undefined = undefined;
  drainResolve: (() => void) | undefined = undefined;
  drainReject: ((e: unknown) => void) | undefined = undefined;
  lingerTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Told once the socket closed (ServedConnection.track), and `closed`'s resolver when it was asked for. */
  owner: ConnectionOwner | undefined = undefined;
  served: ServedConnection | undefined = undefined;
  goneResolve: (() => void) | undefined = undefined;

  constructor(
    readonly socket: BoundSocket,
    readonly readHwm: number,
    readonly writeHwm: number,
    readonly lingerMs: number,
    head: Uint8Array | Uint8Array[] | undefined,
  ) {
    if (head !== undefined) {
      for (const h of Array.isArray(head) ? head : [head]) if (h.byteLength > 0) this.push(h);
    }
    const s = socket;
    s[kBinding] = this;
    if (s.destroyed) {
      // Already gone before we were handed the socket: deliver what we have, then 1006.
      queueMicrotask(() => this.fail(closedError()));
      if (!s.closed) s.on('close', onClose);
      return;
    }
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('error', onError);
    s.on('close', onClose);
    s.on('drain', onDrain);
    if (this.queued >= readHwm) s.pause();
  }

  /** Queues a chunk for a later read; pauses the socket once the queue holds the high-water mark. */
  push(chunk: Uint8Array): void {
    (this.queue ??= []).push(chunk);
    this.queued += chunk.byteLength;
    if (this.queued >= this.readHwm) this.socket.pause();
  }

  /** A pending channel read, if any, learns that the input ended (cleanly or not). */
  settleRead(): void {
    const resolve = this.readResolve;
    if (resolve === undefined) return;
    const reject = this.readReject!;
    this.readResolve = this.readReject = undefined;
    if (this.readError !== undefined) reject(this.readError);
    else resolve(DONE);
  }

  /** The write side ended: null = cleanly (after end()). Settles end()'s promise and tells the sink. */
  settleClosed(err: unknown): void {
    const resolve = this.closedResolve;
    const reject = this.closedReject;
    this.closedResolve = this.closedReject = undefined;
    if (err === null) resolve?.();
    else reject?.(err);
    const sink = this.sink;
    if (sink !== undefined && !this.writeReported) {
      this.writeReported = true;
      sink.onWriteEnd(err);
    }
  }

  listen(sink: ChannelSink): void {
    if (this.readable !== undefined || this.sink !== undefined) throw new TypeError('the socket already has a reader');
    this.sink = sink;
    this.deliver();
    if (this.writeDone && !this.writeReported) {
      this.writeReported = true;
      sink.onWriteEnd(this.failure ?? null);
    }
  }

  /** Chunks are queued meanwhile; the socket itself is paused once the queue holds the high-water mark (push()). */
  pause(): void {
    this.sinkPaused = true;
  }

  resume(): void {
    if (!this.sinkPaused) return;
    this.sinkPaused = false;
    this.deliver();
  }

  /** Push mode: hands queued chunks to the sink while it is not paused, then the input's end or more reading. */
  deliver(): void {
    const sink = this.sink;
    if (sink === undefined || this.delivering) return;
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
    if (this.readDone) this.reportInput();
    else if (this.socket.isPaused()) this.socket.resume();
  }

  /** Tells the sink, once, how the input ended (not after a cancel: the reader left). */
  reportInput(): void {
    const sink = this.sink;
    if (sink === undefined || this.inputReported || this.cancelled) return;
    this.inputReported = true;
    if (this.readError !== undefined) sink.onReadError(this.readError);
    else sink.onEof();
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.readable !== undefined || this.sink !== undefined) return Promise.reject(new TypeError('the socket already has a reader'));
    const q = this.queue;
    if (q !== null) {
      const value = q.shift()!;
      this.queued -= value.byteLength;
      if (q.length === 0) this.queue = null;
      if (this.queued < this.readHwm && !this.readDone && this.socket.isPaused()) this.socket.resume();
      return Promise.resolve({ done: false, value });
    }
    if (this.readError !== undefined) return Promise.reject(this.readError);
    if (this.readDone) return Promise.resolve(DONE);
    if (this.readResolve !== undefined) return Promise.reject(new TypeError('a read is already pending'));
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise<ReadableStreamReadResult<Uint8Array>>((resolve, reject) => {
      this.readResolve = resolve;
      this.readReject = reject;
    });
  }

  closedPromise(): Promise<void> {
    if (this.closedWait === undefined) {
      if (this.writeDone) {
        this.closedWait = this.failure !== undefined ? Promise.reject(this.failure) : Promise.resolve();
        this.closedWait.catch(noop);
      } else {
        this.closedWait = new Promise<void>((resolve, reject) => {
          this.closedResolve = resolve;
          this.closedReject = reject;
        });
        this.closedWait.catch(noop);
      }
    }
    return this.closedWait;
  }

  /** Both directions finished: release the descriptor (after draining unread input, see `lingerMs`). */
  maybeDestroy(): void {
    if (this.readDone && this.writeDone && !this.socket.destroyed) this.linger();
  }

  linger(): void {
    const s = this.socket;
    if (this.lingering || s.destroyed) return;
    this.lingering = true;
    if (s.readableEnded) return void s.destroy();
    this.lingerTimer = setTimeout(destroySocket, this.lingerMs, s);
    this.lingerTimer.unref();
  }

  onData(chunk: Buffer): void {
    if (this.readDone) return; // cancelled: discard (we keep reading only so the peer's FIN is seen)
    const view = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const c = this.readCtrl;
    if (c !== undefined) {
      c.enqueue(view);
      if ((c.desiredSize ?? 0) <= 0) this.socket.pause();
      return;
    }
    const sink = this.sink;
    if (sink !== undefined) {
      if (this.sinkPaused || this.queue !== null) this.push(view);
      else sink.onData(view);
      return;
    }
    const resolve = this.readResolve;
    if (resolve !== undefined) {
      this.readResolve = this.readReject = undefined;
      resolve({ done: false, value: view });
      return;
    }
    this.push(view);
  }

  onEnd(): void {
    if (!this.readDone) {
      this.readDone = true;
      try { this.readCtrl?.close(); } catch { /* already closed */ }
      this.settleRead();
      if (!this.sinkPaused && this.queue === null) this.reportInput(); // else once the queue is delivered
    }
    this.maybeDestroy();
  }

  /** The input ends with `err`: queued chunks are dropped (as an errored stream drops them), reads reject. */
  failRead(err: unknown): void {
    this.readDone = true;
    this.readError = err;
    this.queue = null;
    this.queued = 0;
    try { this.readCtrl?.error(err); } catch { /* already closed */ }
    this.settleRead();
    this.reportInput();
  }

  fail(err: unknown): void {
    this.failure ??= err;
    if (!this.readDone) this.failRead(this.failure);
    if (!this.writeDone) {
      this.writeDone = true;
      try { this.writeCtrl?.error(this.failure); } catch { /* already closed */ }
      this.settleClosed(this.failure);
    }
    const reject = this.drainReject;
    this.drainWait = this.drainResolve = this.drainReject = undefined;
    reject?.(this.failure);
  }

  onClose(): void {
    // 'close' after 'end' and 'finish' is the normal end; anything still open was cut off.
    if (!this.readDone || !this.writeDone) this.fail(this.failure ?? closedError());
    const s = this.socket;
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    s.off('data', onData);
    s.off('end', onEnd);
    s.off('drain', onDrain);
    this.goneResolve?.();
    this.owner?.released(this.served!);
  }

  onDrain(): void {
    const resolve = this.drainResolve;
    this.drainWait = this.drainResolve = this.drainReject = undefined;
    resolve?.();
  }

  waitDrain(): Promise<void> {
    return (this.drainWait ??= new Promise<void>((resolve, reject) => {
      this.drainResolve = resolve;
      this.drainReject = reject;
    }));
  }

  get congested(): boolean {
    return this.socket.writableLength + this.gatheredBytes >= this.writeHwm;
  }

  /** Hands the gathered small chunks to the socket as one buffer (or the single one as it is). */
  flushGathered(): void {
    const g = this.gathered;
    const n = g.length;
    if (n === 0) return;
    const total = this.gatheredBytes;
    this.gatheredBytes = 0;
    const s = this.socket;
    if (s.destroyed || s.writableEnded) {
      g.length = 0;
      return;
    }
    if (n === 1) {
      const only = g[0]!;
      g.length = 0;
      s.write(only);
      return;
    }
    const buf = Buffer.allocUnsafe(total); // Node's pool for small sizes; every byte is written below
    let o = 0;
    for (let i = 0; i < n; i++) {
      const c = g[i]!;
      buf.set(c, o);
      o += c.byteLength;
    }
    g.length = 0; // reused: no array per turn
    s.write(buf);
  }

  /** Shared by the sink and `direct`: cork for this turn, write; true while below our high-water mark. */
  send(chunk: Uint8Array): boolean {
    const s = this.socket;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(uncork, this);
    }
    const n = chunk.byteLength;
    if (n <= GATHER_LIMIT) {
      this.gathered.push(chunk);
      this.gatheredBytes += n;
      // Once flushed, all of it is in Node's buffer at once: a total at or above our mark (>= Node's 16 KiB) makes
      // that write return false, so 'drain' follows and a waiter is woken.
      return s.writableLength + this.gatheredBytes < this.writeHwm;
    }
    this.flushGathered(); // keep the order
    // Node returns false above its own 16 KiB mark; we wait for 'drain' only beyond ours (see writeHighWaterMark).
    // Node emits 'drain' once its buffer empties after any write that returned false, so the wait always ends.
    return s.write(chunk) || s.writableLength < this.writeHwm;
  }

  // ---- readable source

  start(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.readCtrl = c;
    // What arrived before the readable was made (the head, at least) is its first content.
    const q = this.queue;
    this.queue = null;
    this.queued = 0;
    if (q !== null) for (const chunk of q) c.enqueue(chunk);
    if (this.readError !== undefined) c.error(this.readError);
    else if (this.readDone) c.close();
    else if ((c.desiredSize ?? 0) <= 0) this.socket.pause();
  }

  pull(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  cancel(): void {
    this.readDone = true;
    this.cancelled = true;
    this.queue = null;
    this.queued = 0;
    this.settleRead();
    // Keep draining (and discarding) so the peer's FIN still ends the socket: a paused socket would never see
    // it. See `lingerMs` for why we do not simply destroy here.
    this.socket.resume();
    if (this.writeDone) this.linger();
  }

  // ---- writable sink

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('socket writable accepts Uint8Array chunks only');
    if (chunk.byteLength === 0) return undefined;
    return this.send(chunk) ? undefined : this.waitDrain();
  }

  close(): Promise<void> {
    this.flushGathered(); // before the FIN
    return new Promise<void>((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.failure);
      const s = this.socket;
      const finish = (): void => {
        this.writeDone = true;
        resolve();
        this.settleClosed(null);
        this.maybeDestroy();
      };
      if (s.writableFinished || s.destroyed) return finish();
      if (s.writableEnded) {
        s.once('finish', finish);
        return;
      }
      s.end((err?: Error | null) => (err ? reject(err) : finish()));
    });
  }

  abort(reason: unknown): void {
    this.failure ??= reason ?? new Error('aborted');
    if (!this.writeDone) {
      this.writeDone = true;
      this.settleClosed(this.failure);
    }
    if (!this.readDone) this.failRead(this.failure);
    this.socket.destroy();
  }
}

const noop = (): void => {};

/** `SocketStreams.channel` and `.direct` (one object). */
class Channel implements SocketChannel {
  constructor(private readonly b: SocketBinding) {}
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    return this.b.read();
  }
  cancel(): Promise<void> {
    if (!this.b.readDone) this.b.cancel();
    return Promise.resolve();
  }
  releaseLock(): void {}
  end(): Promise<void> {
    const b = this.b;
    const closed = b.closedPromise();
    if (!b.writeDone) b.close().catch(noop); // settles `closed` (finish or failure)
    return closed;
  }
  abort(reason?: unknown): void {
    this.b.abort(reason);
  }
  listen(sink: ChannelSink): void {
    this.b.listen(sink);
  }
  pause(): void {
    this.b.pause();
  }
  resume(): void {
    this.b.resume();
  }
  write(chunk: Uint8Array): boolean {
    const b = this.b;
    if (b.failure !== undefined || b.writeDone || b.socket.writableEnded) return false;
    if (chunk.byteLength === 0) return true;
    return b.send(chunk);
  }
  get congested(): boolean {
    return this.b.congested;
  }
  drained(): Promise<void> {
    const b = this.b;
    if (!b.congested || b.failure !== undefined || b.socket.destroyed) return Promise.resolve();
    return b.waitDrain().catch(noop);
  }
}

/** The readable's underlying source: forwards to the binding (prototype methods, no closures). */
class Source implements UnderlyingDefaultSource<Uint8Array> {
  constructor(private readonly b: SocketBinding) {}
  start(c: ReadableStreamDefaultController<Uint8Array>): void { this.b.start(c); }
  pull(): void { this.b.pull(); }
  cancel(): void { this.b.cancel(); }
}

/** The writable's underlying sink. */
class Sink implements UnderlyingSink<Uint8Array> {
  constructor(private readonly b: SocketBinding) {}
  start(c: WritableStreamDefaultController): void {
    this.b.writeCtrl = c;
    if (this.b.failure !== undefined) c.error(this.b.failure); // made after the socket failed
  }
  write(chunk: Uint8Array): void | Promise<void> { return this.b.write(chunk); }
  close(): Promise<void> { return this.b.close(); }
  abort(reason: unknown): void { this.b.abort(reason); }
}

export function socketStreams(socket: Socket, opts: SocketStreamsOptions = {}): SocketStreams {
  const hwm = opts.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK;
  if (!(hwm >= 0)) throw new RangeError('readHighWaterMark must be >= 0');
  const whwm = opts.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK;
  if (!(whwm >= 0)) throw new RangeError('writeHighWaterMark must be >= 0');
  const b = new SocketBinding(socket, hwm, whwm, opts.lingerMs ?? 2000, opts.head);
  return new Streams(b);
}

/** What socketStreams() returns: the streams are made on first access (a session uses `channel` instead). */
class Streams implements SocketStreams, ServedConnection {
  readonly direct: Channel;
  readonly channel: Channel;
  #closed: Promise<void> | undefined = undefined;
  constructor(private readonly b: SocketBinding) {
    this.direct = this.channel = new Channel(b);
  }
  get closed(): Promise<void> {
    const b = this.b;
    return (this.#closed ??= b.socket.closed ? Promise.resolve() : new Promise<void>((r) => (b.goneResolve = r)));
  }
  destroy(): void {
    this.b.socket.destroy();
  }
  track(owner: ConnectionOwner): void {
    const b = this.b;
    if (b.socket.closed) return queueMicrotask(() => owner.released(this));
    b.owner = owner;
    b.served = this;
  }
  get readable(): ReadableStream<Uint8Array> {
    const b = this.b;
    return (b.readable ??= new ReadableStream<Uint8Array>(new Source(b), { highWaterMark: b.readHwm, size: byteLength }));
  }
  get writable(): WritableStream<Uint8Array> {
    const b = this.b;
    return (b.writable ??= new WritableStream<Uint8Array>(new Sink(b)));
  }
}
