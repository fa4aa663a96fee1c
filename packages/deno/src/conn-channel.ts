/**
 * Binds a `Deno.Conn` (TCP or TLS) to the session's `Channel`: this file is only Deno's read loop and its
 * write-gathering policy; the input queue, backpressure, lingering and the channel's lifetime are the session's
 * (packages/session/src/channel.ts).
 *
 * Why not `conn.readable` / `conn.writable` directly: in Deno both are created with "auto-close" — closing the
 * writable, cancelling the readable, or the readable reaching EOF closes the *whole* resource. A WebSocket needs
 * TCP half-close: the server half-closes after its close frame while still reading the client's FIN, the client
 * reads the server's close frame after its own, and cancelling the read side must not drop a close frame still
 * being written (measured on Deno 2.9: a write after the readable's EOF fails with BadResource). So the streams
 * here sit on `conn.read()` / `conn.write()` / `conn.closeWrite()`, and the resource is closed exactly once,
 * when the channel releases it.
 *
 * reads: one `conn.read()` at a time while the channel is not paused, so a consumer that stops reading leaves
 *   data in the kernel and TCP flow control slows the peer. Deno's read
 *   needs its buffer up front, so every connection pins one while it waits: the size adapts, from 4 KiB (idle
 *   and interactive connections) doubling after each read that filled it up to 64 KiB (bulk transfers). A read
 *   that filled at least half of its buffer is handed on as a view (no copy) and a fresh buffer is allocated; a
 *   smaller read is copied out (`slice`) and the buffer reused. Why: the decoder may keep views of a chunk
 *   (payloads), and a 20-byte view must not pin 64 KiB; the copy of a small read costs less than the allocation
 *   it replaces. So retained memory is at most 2x the bytes actually held.
 * writes: every chunk written during one turn (the echoes of all messages of one read, a frame header and its
 *   payload) is queued, and once the turn's microtasks are done (`process.nextTick`) a single writer copies the
 *   queue into one buffer of up to `GATHER_MAX` and hands it to ONE `conn.write()`: each `conn.write()` is an op
 *   and a `send()` (the 16 KiB echo spent 31% of its samples in `send` when each frame went out on its own).
 *   Chunks written while a `conn.write()` is in flight are gathered into the next one. Chunks above `GATHER_MAX`
 *   go out as they are (no copy). The gather buffers come from a small module-wide pool: a buffer is lent to
 *   Deno only until its write settles. `conn.write()` may write part of a buffer: the rest is retried.
 *   Backpressure: writers wait while more than `writeHighWaterMark` bytes are queued or in flight (the sink's
 *   promise, `direct.congested`/`drained()`), so the session's writer (and the user's) follows the kernel's
 *   send buffer.
 * shutdown -> flush, then `closeWrite()` (FIN; TLS sends close_notify first). destroy -> `close()` at once.
 */
import { Channel, type ChannelOptions, type ChannelPort } from '@streamsocket/session';

export interface ConnChannelOptions extends ChannelOptions {
  /**
   * Largest read buffer. Default 64 KiB. Reads start at 4 KiB and the buffer doubles after each read that
   * filled it, and halves after a run of small reads, so idle connections pin 4 KiB, bulk transfers use 64 KiB.
   */
  readBufferSize?: number;
  /** Bytes queued or in flight before writers wait. Default 64 KiB. */
  writeHighWaterMark?: number;
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

/** Deno 2's Node-compatible `process` (a global in every module); a timer where it is missing. */
const proc = (globalThis as unknown as { process?: { nextTick<T>(fn: (arg: T) => void, arg: T): void } }).process;
const afterTurn: <T>(fn: (arg: T) => void, arg: T) => void =
  proc !== undefined ? (fn, arg) => proc.nextTick(fn, arg) : (fn, arg) => void setTimeout(fn, 0, arg);

function startPump(p: ConnPort): void {
  p.scheduled = false;
  p.startPump();
}

class ConnPort implements ChannelPort {
  readonly channel: Channel;
  readonly #maxBuf: number;
  readonly #minBuf: number;
  readonly #writeHwm: number;
  #paused = false;
  #reading = false;
  #eof = false;
  #closed = false;
  #buf: Uint8Array | null = null;
  /** Size of the next read buffer: adapts between the minimum and readBufferSize (see #readOnce). */
  #size: number;
  #smallReads = 0;
  /** Chunks written and not yet handed to conn.write(), in order. */
  #queue: Uint8Array[] = [];
  /** Bytes queued or in a conn.write() that has not settled: what backpressure counts. */
  #pending = 0;
  /** The writer loop while it runs (a conn.write() in flight or about to be). */
  #pumping: Promise<void> | null = null;
  scheduled = false;

  constructor(readonly conn: ConnLike, opts: ConnChannelOptions) {
    const bufSize = opts.readBufferSize ?? DEFAULT_READ_BUFFER;
    const writeHwm = opts.writeHighWaterMark ?? DEFAULT_WRITE_HWM;
    if (!(bufSize >= 1)) throw new RangeError('readBufferSize must be >= 1');
    if (!(writeHwm >= 0)) throw new RangeError('writeHighWaterMark must be >= 0');
    this.#maxBuf = bufSize;
    this.#minBuf = this.#size = Math.min(MIN_READ_BUFFER, bufSize);
    this.#writeHwm = writeHwm;
    this.channel = new Channel(this, { readHighWaterMark: bufSize, ...opts });
    void this.#readLoop();
  }

  /** One read. Returns the chunk to deliver, or null at EOF. */
  async #readOnce(): Promise<Uint8Array | null> {
    for (;;) {
      const b = (this.#buf ??= new Uint8Array(this.#size));
      const n = await this.conn.read(b);
      if (n === null) return null;
      if (n === 0) continue;
      // Adapt the buffer to the traffic: a full read means more is waiting (grow, up to readBufferSize);
      // a run of small reads means an interactive or idle connection (shrink, down to MIN_READ_BUFFER).
      if (n === b.byteLength) {
        this.#size = Math.min(this.#size * 2, this.#maxBuf);
        this.#smallReads = 0;
      } else if (n * 4 <= b.byteLength && ++this.#smallReads >= 4) {
        this.#size = Math.max(this.#size >> 1, this.#minBuf);
        this.#smallReads = 0;
      }
      // A read that filled at least half of its buffer is handed on as a view (a fresh buffer next time); a
      // smaller one is copied out and the buffer reused, so a small view never pins a large buffer.
      if (n * 2 >= b.byteLength) {
        this.#buf = null;
        return b.subarray(0, n);
      }
      if (b.byteLength !== this.#size) this.#buf = null;
      return b.slice(0, n);
    }
  }

  async #readLoop(): Promise<void> {
    if (this.#reading || this.#eof || this.#closed) return;
    this.#reading = true;
    const ch = this.channel;
    try {
      while (!this.#paused && !this.#closed) {
        const chunk = await this.#readOnce();
        if (chunk === null) {
          this.#eof = true;
          ch.onEnd();
          break;
        }
        ch.onData(chunk);
      }
    } catch (e) {
      this.#eof = true;
      if (!this.#closed) ch.onError(e);
    }
    this.#reading = false;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    void this.#readLoop();
  }

  /** Queues `chunk` for the end of this turn; false once writers should wait. */
  write(chunk: Uint8Array): boolean {
    this.#queue.push(chunk);
    this.#pending += chunk.byteLength;
    // While a write is in flight, the loop picks this up when it settles; otherwise write at the end of the turn.
    if (this.#pumping === null && !this.scheduled) {
      this.scheduled = true;
      afterTurn(startPump, this);
    }
    return this.#pending <= this.#writeHwm;
  }

  startPump(): void {
    // (#pump() awaits its first write before it can end, so #pumping is set before its `finally` clears it)
    if (this.#pumping === null && this.#queue.length > 0 && !this.#closed && this.channel.failure === undefined) this.#pumping = this.#pump();
  }

  /** Takes the next write off the queue: queued chunks copied into a pooled buffer, or a single/large one as is. */
  #take(): { out: Uint8Array; lent: Uint8Array | null } {
    const queue = this.#queue;
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
  }

  /** The only place that calls conn.write(): writes until the queue is empty (what arrives meanwhile included). */
  async #pump(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed && this.channel.failure === undefined) {
        const { out, lent } = this.#take();
        let off = 0;
        while (off < out.byteLength) off += await this.conn.write(off === 0 ? out : out.subarray(off));
        if (lent !== null && pool.length < POOL_MAX) pool.push(lent); // Deno is done with it: the write settled
        this.#pending -= out.byteLength;
        if (this.#pending <= this.#writeHwm) this.channel.onDrain();
      }
    } catch (e) {
      this.#queue.length = 0;
      this.#pending = 0;
      this.channel.onError(e);
    } finally {
      // At once, not a turn later: a write() in between must see no pump running and schedule one.
      this.#pumping = null;
    }
  }

  async shutdown(): Promise<void> {
    this.startPump(); // what was written goes out before the FIN, without waiting for the end of the turn
    while (this.#pumping !== null) await this.#pumping;
    const f = this.channel.failure;
    if (f !== undefined) throw f;
    // The peer may have closed first (NotConnected/BrokenPipe after our last write): the channel reports it and
    // the session decides whether it matters.
    await this.conn.closeWrite();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    try {
      this.conn.close();
    } catch {
      /* already closed by the runtime */
    }
    this.channel.onClose();
  }
}

/** The session's channel over a Deno connection (see the file comment). */
export function connChannel(conn: ConnLike, opts: ConnChannelOptions = {}): Channel {
  return new ConnPort(conn, opts).channel;
}
