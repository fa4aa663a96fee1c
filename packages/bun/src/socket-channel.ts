/**
 * Binds a Bun TCP/TLS socket (`Bun.listen` / `Bun.connect`, callback based) to the session's `Channel`: this file
 * is only Bun's event wiring and its write-gathering policy; the input queue, backpressure, lingering and the
 * channel's lifetime are the session's (packages/session/src/channel.ts). Measured on Bun 1.4.5 (see
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
 * - shutdown -> flush, `shutdown()` (FIN; we keep reading: sockets are opened with `allowHalfOpen`); destroy ->
 *   `end()` once both FINs were exchanged, else `terminate()`.
 * - Bun reports the end of a connection as `end` (peer's FIN, while we can still write) or `close` (with an
 *   error for a reset; without one once both FINs were exchanged).
 */
import type * as Bun from './bun-api.js';
import { Channel, closedError, type ChannelOptions, type ChannelPort } from '@streamsocket/session';

export interface SocketChannelOptions extends ChannelOptions {
  /**
   * Bytes written and not yet accepted by the socket (gathered for the end of the loop iteration, or refused by a
   * partial write) at which writers wait. Default 64 KiB.
   */
  writeHighWaterMark?: number;
}

const DEFAULT_WRITE_HWM = 64 * 1024;
/**
 * Chunks up to this size are gathered (copied) into the loop iteration's single write; larger ones go out unchanged,
 * where one more `send()` costs little next to the bytes. Also the most one loop iteration gathers before writing.
 */
const GATHER_MAX = 64 * 1024;

/** Chunks up to this size are copied byte by byte into the scratch (see flushGathered). */
const SMALL_COPY = 32;

/** Shared by every binding: a flush copies into it and writes it synchronously, see the file comment. */
let scratch = new Uint8Array(GATHER_MAX);

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

/**
 * One socket's port. The socket's handlers (see `socketHandlers`) call the `on*` methods; the binding is stored in
 * `socket.data`. The session drives `channel`.
 */
export class SocketBinding implements ChannelPort {
  readonly channel: Channel;
  private socket: Bun.Socket<SocketBinding> | null = null;
  private paused = false;
  private destroyed = false;
  private socketClosed = false;
  private readonly writeHwm: number;
  /** Chunks written this loop iteration, not yet handed to the socket (flushed by `flushTurn`). */
  private gathered: Uint8Array[] = [];
  private gatheredBytes = 0;
  private flushScheduled = false;
  /** Bytes the socket refused (partial writes), in order, written again on `drain`. */
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  /** shutdown() waiting for the backlog to be out. */
  private backlogOut: (() => void) | null = null;

  constructor(opts: SocketChannelOptions = {}) {
    const whwm = opts.writeHighWaterMark ?? DEFAULT_WRITE_HWM;
    if (!(whwm >= 0)) throw new RangeError('writeHighWaterMark must be >= 0');
    this.writeHwm = whwm;
    this.channel = new Channel(this, opts);
  }

  /** Called from the socket's `open` handler (or right away for an already open socket). */
  attach(socket: Bun.Socket<SocketBinding>): void {
    if (this.socket === socket) return;
    this.socket = socket;
    socket.data = this;
    if (this.destroyed) socket.terminate();
    else if (this.paused) socket.pause();
  }

  // ---- ChannelPort

  pause(): void {
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.socket?.resume();
  }

  /** Gathers `chunk` for this loop iteration's write; false once congested. */
  write(chunk: Uint8Array): boolean {
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

  async shutdown(): Promise<void> {
    this.flushGathered();
    if (this.backlogBytes > 0) await new Promise<void>((r) => (this.backlogOut = r));
    const f = this.channel.failure;
    if (f !== undefined) throw f;
    if (!this.socketClosed) this.socket?.shutdown();
  }

  /** Releases the socket: gracefully once both FINs were exchanged, else at once (the channel hears `close`). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const s = this.socket;
    if (s === null) return this.channel.onClose(); // never attached: nothing else will report it
    if (this.socketClosed) return;
    if (this.channel.finished) s.end();
    else s.terminate();
  }

  private get congested(): boolean {
    return this.backlogBytes + this.gatheredBytes >= this.writeHwm;
  }

  /** End of the loop iteration: write what was gathered, and wake writers if that emptied the backlog. */
  flushTurn(): void {
    this.flushScheduled = false;
    this.flushGathered();
    if (this.backlogBytes === 0) this.channel.onDrain();
  }

  /** Hands the gathered chunks to the socket with one write (copied into the scratch, or the single one as is). */
  private flushGathered(): void {
    const g = this.gathered;
    const count = g.length;
    if (count === 0) return;
    const total = this.gatheredBytes;
    this.gatheredBytes = 0;
    if (this.socketClosed || !this.socket || this.channel.failure !== undefined) {
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
    const w = this.socket.write(buf, 0, total);
    if (w < 0) return this.channel.onError(closedError());
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
    if (this.socketClosed || !this.socket) return;
    const n = this.socket.write(bytes);
    if (n < 0) return this.channel.onError(closedError());
    if (n === bytes.byteLength) return;
    const rest = bytes.subarray(n);
    this.backlog.push(rest);
    this.backlogBytes += rest.byteLength;
  }

  // ---- Bun's socket events (socketHandlers)

  onData(chunk: Uint8Array): void {
    this.channel.onData(chunk);
  }

  onDrain(): void {
    const s = this.socket;
    if (this.backlogBytes === 0 || !s) return;
    const q = this.backlog;
    while (q.length > 0) {
      const c = q[0]!;
      const n = s.write(c);
      if (n < 0) return this.channel.onError(closedError());
      this.backlogBytes -= n;
      if (n < c.byteLength) {
        q[0] = c.subarray(n);
        return; // the next 'drain' continues
      }
      q.shift();
    }
    const out = this.backlogOut;
    this.backlogOut = null;
    out?.();
    this.channel.onDrain();
  }

  onEnd(): void {
    this.channel.onEnd();
  }

  onError(err: Error): void {
    this.channel.onError(err);
  }

  onClose(err?: Error): void {
    this.socketClosed = true;
    this.backlog.length = this.gathered.length = 0;
    this.backlogBytes = this.gatheredBytes = 0;
    const out = this.backlogOut;
    this.backlogOut = null;
    // Without an error Bun closed after both FINs: an EOF for the reader (a writer still active lost its socket).
    if (!err) this.channel.onEnd();
    this.channel.onClose(err);
    out?.();
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
