/**
 * The transport contract: a `ByteChannel` is the only thing the session drives. One runtime-free implementation
 * (`Channel`) holds everything a byte transport needs that is not the runtime's: the input queue and its
 * high-water mark, the one-at-a-time `read()` of the opening handshake, push mode (`listen`) with
 * `pause`/`resume`, the write side's congestion and end, lingering until the peer's FIN, `closed` and
 * `destroy()`. Each adapter supplies a small `ChannelPort` (write, pause, resume, shutdown, destroy: its event
 * wiring and its write-gathering policy) and feeds the channel what its runtime reports (`onData`, `onEnd`,
 * `onDrain`, `onError`, `onClose`). `channelFromStreams()` makes one from any `{ readable, writable }` pair.
 *
 * Memory: an idle channel holds no array (the queue is null when empty), no promise (reads, `closed`, drain
 * waits and `end()` are made when asked for) and no closure; its WHATWG streams are made on first access only.
 */
import { ReadableStream, WritableStream } from '@web-std/stream';

/**
 * A reader's read() result (the DOM's ReadableStreamReadResult, restated: @types/node alone lacks the name, and
 * these types must check in a Node project without the DOM library).
 */
export type ReadResult<T> = { done: false; value: T } | { done: true; value: T | undefined };

/** A byte duplex as WHATWG streams: a Deno connection, Cloudflare's `connect()`, `Duplex.toWeb()`, a pipe end. */
export interface ByteDuplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** What the session drives: a byte transport without WHATWG streams (see the file comment). */
export interface ByteChannel {
  /** The next chunk, `{ done: true }` after the peer's clean EOF or a cancel; rejects once the input failed. */
  read(): Promise<ReadResult<Uint8Array>>;
  /** Stops reading: a pending read resolves `{ done: true }`, later input is discarded until the peer's FIN. */
  cancel(reason?: unknown): Promise<void>;
  /**
   * Push mode from now on (no `read()` after it): chunks not yet read are delivered first, synchronously, then
   * each chunk as it arrives, in order; the input's end and the write side's end are reported once each.
   */
  listen(sink: ChannelSink): void;
  /** No more `onData` until `resume()` (the transport stops reading once the queue holds the high-water mark). */
  pause(): void;
  resume(): void;
  /** Writes now, in order; false once the transport is at its high-water mark (then `drained()`). Never throws. */
  write(chunk: Uint8Array): boolean;
  /** True from a `write()` that returned false until the transport drained. */
  readonly congested: boolean;
  /** Resolves once no longer congested (at once if not), or when the transport failed or closed. Never rejects. */
  drained(): Promise<void>;
  /** Flushes what was written, then half-closes (FIN); resolves once done, rejects if the transport failed. */
  end(): Promise<void>;
  /** Drops what is queued and tears the transport down (RST-like); pending and later reads reject. */
  abort(reason?: unknown): void;
  /** Resolves once the transport is fully closed (both directions, descriptor released). Never rejects. */
  readonly closed: Promise<void>;
  /** Tears the transport down at once, whatever its state. */
  destroy(): void;
  /** Calls `owner.released(this)` once the transport is fully closed (at once if it is): no promise each. */
  track(owner: ConnectionOwner): void;
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

/** Told when a tracked transport is fully closed (ByteChannel.track). */
export interface ConnectionOwner {
  released(conn: ByteChannel): void;
}

/** What an adapter supplies: its runtime's socket calls, nothing else (see the file comment). */
export interface ChannelPort {
  /**
   * Hands bytes to the transport in order (gathering them per turn is the adapter's policy). Returns false once
   * the bytes not yet accepted by the kernel reach the adapter's high-water mark: it then calls `onDrain()`
   * once below it again.
   */
  write(chunk: Uint8Array): boolean;
  /** Stop / restart reading the socket. */
  pause(): void;
  resume(): void;
  /** Flushes what was written, then sends FIN (reading goes on); resolves once done, rejects on failure. */
  shutdown(): Promise<void>;
  /** Releases the transport now (both directions); the adapter then calls `onClose()`. */
  destroy(): void;
}

export interface ChannelOptions {
  /** Bytes the input queue may hold before the transport stops reading. Default 64 KiB. */
  readHighWaterMark?: number;
  /**
   * After the reader left (cancel) while the write side had finished, how long (ms) to keep reading and
   * discarding before destroying the transport: closing a socket with unread input makes the kernel send RST,
   * which can wipe out our last bytes (a refusal, a close frame) before the peer reads them. Default 2000.
   */
  lingerMs?: number;
  /** Bytes that arrived before the transport was handed over; delivered first. */
  head?: Uint8Array | readonly Uint8Array[] | undefined;
}

export const DEFAULT_READ_HIGH_WATER_MARK = 64 * 1024;
const DEFAULT_LINGER_MS = 2000;

const DONE: ReadResult<Uint8Array> = Object.freeze({ done: true, value: undefined });
const noop = (): void => {};

/** What reads reject with when the transport closed before a clean EOF. */
export function closedError(message = 'socket closed before the stream ended'): Error {
  const e = new Error(message) as Error & { code: string };
  e.code = 'ECONNRESET';
  return e;
}

/** True for a ByteChannel (anything with `listen`), false for a `{ readable, writable }` pair. */
export function isChannel(t: ByteDuplex | ByteChannel): t is ByteChannel {
  return typeof (t as ByteChannel).listen === 'function';
}

/** The channel of a transport given either way. */
export function toChannel(t: ByteDuplex | ByteChannel): ByteChannel {
  return isChannel(t) ? t : channelFromStreams(t);
}

function unrefTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const t = setTimeout(fn, ms);
  (t as { unref?: () => void }).unref?.();
  return t;
}

export class Channel implements ByteChannel {
  readonly port: ChannelPort;
  readonly #hwm: number;
  readonly #lingerMs: number;
  /** Chunks not yet read or delivered, in order; null when empty (an idle channel holds no array). */
  #queue: Uint8Array[] | null = null;
  #queued = 0;
  #portPaused = false;
  /** The consumer gets no more input: EOF seen, input failed, or cancelled. */
  #readDone = false;
  /** The peer's FIN was seen. */
  #eof = false;
  #cancelled = false;
  #readError: unknown = undefined;
  #readResolve: ((r: ReadResult<Uint8Array>) => void) | null = null;
  #readReject: ((e: unknown) => void) | null = null;
  #sink: ChannelSink | null = null;
  #sinkPaused = false;
  #delivering = false;
  #inputReported = false;
  #writeReported = false;
  /** The write side is finished: ended (after end()) or failed. */
  #writeDone = false;
  #ending: Promise<void> | null = null;
  #congested = false;
  #drainWait: Promise<void> | null = null;
  #drainResolve: (() => void) | null = null;
  #failure: unknown = undefined;
  #gone = false;
  #closed: Promise<void> | null = null;
  #closedResolve: (() => void) | null = null;
  #owner: ConnectionOwner | null = null;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #readable: ReadableStream<Uint8Array> | undefined = undefined;
  #writable: WritableStream<Uint8Array> | undefined = undefined;
  #writeCtrl: WritableStreamDefaultController | undefined = undefined;

  constructor(port: ChannelPort, opts: ChannelOptions = {}) {
    const hwm = opts.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK;
    if (!(hwm >= 0)) throw new RangeError('readHighWaterMark must be >= 0');
    this.port = port;
    this.#hwm = hwm;
    this.#lingerMs = opts.lingerMs ?? DEFAULT_LINGER_MS;
    const head = opts.head;
    if (head !== undefined) for (const h of head instanceof Uint8Array ? [head] : head) if (h.byteLength > 0) this.#push(h);
  }

  /** The input and output are both finished cleanly (FIN both ways, nothing failed). */
  get finished(): boolean {
    return this.#eof && this.#writeDone && this.#failure === undefined;
  }

  /** Why the transport failed, if it did. */
  get failure(): unknown {
    return this.#failure;
  }

  // ---- fed by the adapter

  /** A chunk from the transport (handed on as is: the adapter gives up the memory). */
  onData(chunk: Uint8Array): void {
    if (this.#readDone) return; // cancelled or ended: dropped while waiting for the FIN
    const sink = this.#sink;
    if (sink !== null) {
      if (this.#sinkPaused || this.#queue !== null) this.#push(chunk);
      else sink.onData(chunk);
      return;
    }
    const resolve = this.#readResolve;
    if (resolve !== null) {
      this.#readResolve = this.#readReject = null;
      resolve({ done: false, value: chunk });
      return;
    }
    this.#push(chunk);
  }

  /** The peer's FIN. */
  onEnd(): void {
    this.#eof = true;
    if (!this.#readDone) {
      this.#readDone = true;
      this.#settleRead();
      if (!this.#sinkPaused && this.#queue === null) this.#reportInput(); // else once the queue is delivered
    }
    this.#maybeRelease();
  }

  /** The bytes not yet accepted fell below the adapter's high-water mark. */
  onDrain(): void {
    this.#congested = false;
    const resolve = this.#drainResolve;
    this.#drainWait = this.#drainResolve = null;
    resolve?.();
  }

  /** The transport failed (both directions end with `err`). */
  onError(err: unknown): void {
    this.#fail(err);
  }

  /** The transport is fully closed; anything still open was cut off. */
  onClose(err?: unknown): void {
    if (this.#gone) return;
    this.#gone = true;
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    if (err !== undefined && err !== null) this.#fail(err);
    if (!this.#readDone || !this.#writeDone) this.#fail(this.#failure ?? closedError());
    this.#closedResolve?.();
    this.#owner?.released(this);
  }

  // ---- ByteChannel

  read(): Promise<ReadResult<Uint8Array>> {
    if (this.#sink !== null) return Promise.reject(new TypeError('the channel already has a reader'));
    const q = this.#queue;
    if (q !== null) {
      const value = q.shift()!;
      this.#queued -= value.byteLength;
      if (q.length === 0) this.#queue = null;
      if (this.#queued < this.#hwm && !this.#eof) this.#resumePort();
      return Promise.resolve({ done: false, value });
    }
    if (this.#readError !== undefined) return Promise.reject(this.#readError);
    if (this.#readDone) return Promise.resolve(DONE);
    if (this.#readResolve !== null) return Promise.reject(new TypeError('a read is already pending'));
    this.#resumePort();
    return new Promise<ReadResult<Uint8Array>>((resolve, reject) => {
      this.#readResolve = resolve;
      this.#readReject = reject;
    });
  }

  cancel(): Promise<void> {
    if (this.#cancelled) return Promise.resolve();
    this.#cancelled = true;
    this.#readDone = true;
    this.#queue = null;
    this.#queued = 0;
    this.#settleRead();
    // Keep reading (and discarding) so the peer's FIN still ends the transport; see `lingerMs`.
    this.#resumePort();
    this.#maybeRelease();
    return Promise.resolve();
  }

  listen(sink: ChannelSink): void {
    if (this.#sink !== null) throw new TypeError('the channel already has a reader');
    this.#sink = sink;
    this.#deliver();
    if (this.#writeDone) this.#reportWriteEnd(this.#failure ?? null);
  }

  pause(): void {
    this.#sinkPaused = true;
  }

  resume(): void {
    if (!this.#sinkPaused) return;
    this.#sinkPaused = false;
    this.#deliver();
  }

  write(chunk: Uint8Array): boolean {
    if (this.#failure !== undefined || this.#writeDone || this.#ending !== null || this.#gone) return false;
    if (chunk.byteLength === 0) return true;
    if (this.port.write(chunk)) return true;
    this.#congested = true;
    return false;
  }

  get congested(): boolean {
    return this.#congested;
  }

  drained(): Promise<void> {
    if (!this.#congested || this.#failure !== undefined || this.#gone) return Promise.resolve();
    return (this.#drainWait ??= new Promise<void>((resolve) => (this.#drainResolve = resolve)));
  }

  end(): Promise<void> {
    if (this.#ending !== null) return this.#ending;
    if (this.#failure !== undefined) {
      this.#ending = Promise.reject(this.#failure);
    } else if (this.#writeDone) {
      this.#ending = Promise.resolve();
    } else {
      this.#ending = this.port.shutdown().then(
        () => {
          this.#writeDone = true;
          this.#reportWriteEnd(null);
          this.#maybeRelease();
        },
        (e: unknown) => {
          this.#fail(e);
          throw e;
        },
      );
    }
    this.#ending.catch(noop);
    return this.#ending;
  }

  abort(reason?: unknown): void {
    this.#fail(reason ?? new Error('aborted'));
    this.#release();
  }

  get closed(): Promise<void> {
    return (this.#closed ??= this.#gone ? Promise.resolve() : new Promise<void>((r) => (this.#closedResolve = r)));
  }

  destroy(): void {
    this.#fail(this.#failure ?? closedError('connection destroyed'));
    this.#release();
  }

  track(owner: ConnectionOwner): void {
    if (this.#gone) queueMicrotask(() => owner.released(this));
    else this.#owner = owner;
  }

  // ---- WHATWG streams over the channel, for consumers other than the session (made on first access)

  /** The input as a ReadableStream (it becomes the channel's one reader). */
  get readable(): ReadableStream<Uint8Array> {
    return (this.#readable ??= new ReadableStream<Uint8Array>(new ChannelSource(this), { highWaterMark: 0 }));
  }

  /** The output as a WritableStream: writes wait while congested; close() is end(), abort() is abort(). */
  get writable(): WritableStream<Uint8Array> {
    return (this.#writable ??= new WritableStream<Uint8Array>(new ChannelSinkStream(this)));
  }

  /** @internal ChannelSinkStream.start */
  setWriteController(c: WritableStreamDefaultController): void {
    this.#writeCtrl = c;
    if (this.#failure !== undefined) c.error(this.#failure);
  }

  // ---- internals

  #push(chunk: Uint8Array): void {
    (this.#queue ??= []).push(chunk);
    this.#queued += chunk.byteLength;
    if (this.#queued >= this.#hwm && !this.#portPaused) {
      this.#portPaused = true;
      this.port.pause();
    }
  }

  #resumePort(): void {
    if (!this.#portPaused || this.#gone) return;
    this.#portPaused = false;
    this.port.resume();
  }

  /** Push mode: hands queued chunks to the sink while it is not paused, then the input's end or more reading. */
  #deliver(): void {
    const sink = this.#sink;
    if (sink === null || this.#delivering) return;
    this.#delivering = true;
    try {
      while (!this.#sinkPaused && !this.#cancelled && this.#queue !== null) {
        const q = this.#queue;
        const chunk = q.shift()!;
        this.#queued -= chunk.byteLength;
        if (q.length === 0) this.#queue = null;
        sink.onData(chunk);
      }
    } finally {
      this.#delivering = false;
    }
    if (this.#sinkPaused || this.#cancelled || this.#queue !== null) return;
    if (this.#readDone) this.#reportInput();
    else this.#resumePort();
  }

  #settleRead(): void {
    const resolve = this.#readResolve;
    if (resolve === null) return;
    const reject = this.#readReject!;
    this.#readResolve = this.#readReject = null;
    if (this.#readError !== undefined) reject(this.#readError);
    else resolve(DONE);
  }

  /** Tells the sink, once, how the input ended (not after a cancel: the reader left). */
  #reportInput(): void {
    const sink = this.#sink;
    if (sink === null || this.#inputReported || this.#cancelled) return;
    this.#inputReported = true;
    if (this.#readError !== undefined) sink.onReadError(this.#readError);
    else sink.onEof();
  }

  #reportWriteEnd(err: unknown): void {
    const sink = this.#sink;
    if (sink === null || this.#writeReported) return;
    this.#writeReported = true;
    sink.onWriteEnd(err);
  }

  /** Both directions end with `err`: queued input is dropped, reads reject, writes stop, waiters are released. */
  #fail(err: unknown): void {
    this.#failure ??= err;
    const f = this.#failure;
    if (!this.#readDone) {
      this.#readDone = true;
      this.#readError = f;
      this.#queue = null;
      this.#queued = 0;
      this.#settleRead();
      this.#reportInput();
    }
    if (!this.#writeDone) {
      this.#writeDone = true;
      this.#reportWriteEnd(f);
      try {
        this.#writeCtrl?.error(f);
      } catch {
        /* already closed */
      }
    }
    this.onDrain();
  }

  /** Both directions finished: release the transport, after draining unread input (see `lingerMs`). */
  #maybeRelease(): void {
    if (this.#gone || !this.#readDone || !this.#writeDone || this.#lingerTimer !== undefined) return;
    if (this.#eof || this.#lingerMs <= 0 || this.#failure !== undefined) return this.#release();
    this.#resumePort();
    this.#lingerTimer = unrefTimer(() => this.#release(), this.#lingerMs);
  }

  #release(): void {
    if (this.#gone) return;
    this.port.destroy();
  }
}

/** The readable's underlying source (prototype methods, no closures): the channel's sink in push mode. */
class ChannelSource implements UnderlyingDefaultSource<Uint8Array>, ChannelSink {
  #ctrl!: ReadableStreamDefaultController<Uint8Array>;
  constructor(private readonly ch: Channel) {}
  start(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.#ctrl = c;
    this.ch.listen(this);
  }
  pull(): void {
    this.ch.resume();
  }
  cancel(): Promise<void> {
    return this.ch.cancel();
  }
  onData(chunk: Uint8Array): void {
    this.#ctrl.enqueue(chunk);
    // A zero high-water mark: every chunk waits for a read (the channel's queue is the buffer).
    if ((this.#ctrl.desiredSize ?? 0) <= 0) this.ch.pause();
  }
  onEof(): void {
    try {
      this.#ctrl.close();
    } catch {
      /* cancelled */
    }
  }
  onReadError(e: unknown): void {
    try {
      this.#ctrl.error(e);
    } catch {
      /* cancelled */
    }
  }
  onWriteEnd(): void {}
}

/** The writable's underlying sink. */
class ChannelSinkStream implements UnderlyingSink<Uint8Array> {
  constructor(private readonly ch: Channel) {}
  start(c: WritableStreamDefaultController): void {
    this.ch.setWriteController(c);
  }
  write(chunk: Uint8Array): void | Promise<void> {
    const ch = this.ch;
    if (ch.failure !== undefined) throw ch.failure;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('a byte channel accepts Uint8Array chunks only');
    if (ch.write(chunk)) return undefined;
    return ch.drained().then(() => {
      if (ch.failure !== undefined) throw ch.failure;
    });
  }
  close(): Promise<void> {
    return this.ch.end();
  }
  abort(reason: unknown): void {
    this.ch.abort(reason);
  }
}

/**
 * A channel over a `{ readable, writable }` pair (pipes, tests, edge runtimes, Node's `Duplex.toWeb()`): one read
 * pending while reading is wanted, writes through one writer (congested while its `desiredSize` is not positive).
 * When both directions are done the reader is cancelled at once (no linger: a stream pair has no kernel buffer
 * to reset), which also releases transports that tie their lifetime to the readable.
 */
export function channelFromStreams(pair: ByteDuplex, opts: Omit<ChannelOptions, 'lingerMs'> = {}): Channel {
  const port = new StreamPort(pair);
  // The pair's readable is the buffer: by default the channel queues at most the chunk it was reading.
  const ch = new Channel(port, { readHighWaterMark: 0, ...opts, lingerMs: 0 });
  port.start(ch);
  return ch;
}

class StreamPort implements ChannelPort {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #ch!: Channel;
  #paused = false;
  #reading = false;
  #readEnded = false;
  #destroyed = false;

  constructor(pair: ByteDuplex) {
    this.#reader = pair.readable.getReader();
    this.#writer = pair.writable.getWriter();
  }

  start(ch: Channel): void {
    this.#ch = ch;
    // The writable failing (a reset) fails the channel; a clean close is the channel's own end().
    this.#writer.closed.then(noop, (e: unknown) => ch.onError(e ?? closedError()));
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#reading || this.#readEnded) return;
    this.#reading = true;
    const ch = this.#ch;
    try {
      while (!this.#paused && !this.#destroyed) {
        const { done, value } = await this.#reader.read();
        if (done) {
          this.#readEnded = true;
          if (!this.#destroyed) ch.onEnd();
          break;
        }
        if (value.byteLength > 0) ch.onData(value);
      }
    } catch (e) {
      this.#readEnded = true;
      if (!this.#destroyed) ch.onError(e);
    }
    this.#reading = false;
  }

  write(chunk: Uint8Array): boolean {
    const w = this.#writer;
    w.write(chunk).catch(noop); // a failure surfaces through writer.closed
    if ((w.desiredSize ?? 1) > 0) return true;
    w.ready.then(() => this.#ch.onDrain(), noop);
    return false;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    void this.#pump();
  }

  shutdown(): Promise<void> {
    return this.#writer.close();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const e = this.#ch.failure;
    if (e === undefined) this.#writer.close().catch(noop); // (already closed by end(), or closing now)
    else this.#writer.abort(e).catch(noop);
    this.#reader.cancel(e).catch(noop);
    this.#ch.onClose();
  }
}
