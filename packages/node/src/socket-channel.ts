/**
 * Binds a connected `net.Socket` (or `tls.TLSSocket`) to the session's `Channel`: this file is only Node's event
 * wiring and its write-gathering policy; the input queue, backpressure, lingering and the channel's lifetime are
 * the session's (packages/session/src/channel.ts).
 *
 * - Input: every 'data' Buffer goes to the channel as a plain `Uint8Array` *view* of the same memory (no copy; a
 *   view rather than the Buffer so consumers get standard `slice()` copy semantics). The channel pauses the
 *   socket once its queue holds `readHighWaterMark` bytes, so the kernel's receive window closes.
 * - Output: the first write of a turn corks the socket and a `process.nextTick` uncorks it, so everything written
 *   in one pass of the event loop (the echoes of every message of one socket read, a frame header and its
 *   payload) leaves in ONE syscall; chunks up to 1 KiB are even copied into one buffer (a writev of many tiny
 *   iovecs costs more than the copy). A write reports congestion once Node's buffer holds `writeHighWaterMark`
 *   bytes; 'drain' ends it.
 * - shutdown → flush, `socket.end()` (FIN); destroy → `socket.destroy()`; 'close' → the channel's `onClose()`.
 *
 * Memory: one `SocketPort` per socket; the listeners are module-level functions that find it through a symbol
 * on the socket, so a connection allocates no closures here.
 */
import { Channel, type ChannelOptions, type ChannelPort } from '@streamsocket/session';
import type { Socket } from 'node:net';

export interface SocketChannelOptions extends ChannelOptions {
  /**
   * Bytes Node's socket buffer may hold (written, not yet accepted by the kernel) before writers wait for
   * 'drain'. Default 64 KiB. Node's own 16 KiB mark is below a single 16 KiB frame, so honouring it would cost
   * an event-loop turn per frame on bulk traffic; this bound keeps the buffer just as finite.
   */
  writeHighWaterMark?: number;
}

/** Default bound on Node's socket write buffer before writers wait for 'drain', in bytes. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

/**
 * Chunks up to this size written in one turn are copied into one buffer at the end of the turn: one socket write of
 * one contiguous buffer instead of a writev of many tiny iovecs (Node converts, queues and hands over each chunk).
 */
const GATHER_LIMIT = 1024;

/** Where a socket's listeners find their port (a symbol: invisible to user code walking the socket). */
const kPort = Symbol('streamsocket.port');
type BoundSocket = Socket & { [kPort]?: SocketPort };

// Listeners shared by every socket: EventEmitter calls them with `this` = the socket.
function onData(this: BoundSocket, chunk: Buffer): void {
  this[kPort]!.channel.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
}
function onEnd(this: BoundSocket): void {
  this[kPort]!.channel.onEnd();
}
function onError(this: BoundSocket, err: Error): void {
  this[kPort]!.channel.onError(err);
}
function onClose(this: BoundSocket): void {
  this.off('data', onData);
  this.off('end', onEnd);
  this.off('drain', onDrain);
  this[kPort]!.channel.onClose();
}
function onDrain(this: BoundSocket): void {
  this[kPort]!.channel.onDrain();
}
function uncork(p: SocketPort): void {
  p.corked = false;
  p.flushGathered();
  p.socket.uncork();
}

class SocketPort implements ChannelPort {
  readonly channel: Channel;
  /** True between the first write of a turn and the nextTick that uncorks. */
  corked = false;
  /** Small chunks of this turn not yet handed to the socket (see GATHER_LIMIT); reused, no array per turn. */
  gathered: Uint8Array[] = [];
  gatheredBytes = 0;

  constructor(readonly socket: BoundSocket, readonly writeHwm: number, opts: ChannelOptions) {
    this.channel = new Channel(this, opts);
    socket[kPort] = this;
    if (socket.destroyed) {
      // Already gone before we were handed it: deliver what we have, then 1006.
      if (socket.closed) queueMicrotask(() => this.channel.onClose());
      else socket.on('close', onClose);
      return;
    }
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
    socket.resume(); // a socket handed over paused (after a proxy tunnel) reads again; the channel pauses it when full
  }

  write(chunk: Uint8Array): boolean {
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return true; // the channel hears 'close'
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
      // that write return false, so 'drain' follows.
      return s.writableLength + this.gatheredBytes < this.writeHwm;
    }
    this.flushGathered(); // keep the order
    // Node returns false above its own 16 KiB mark and then emits 'drain' once its buffer empties.
    return s.write(chunk) || s.writableLength < this.writeHwm;
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
    g.length = 0;
    s.write(buf);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  shutdown(): Promise<void> {
    this.flushGathered(); // before the FIN
    const s = this.socket;
    return new Promise<void>((resolve, reject) => {
      if (s.writableFinished || s.destroyed) return resolve();
      if (s.writableEnded) return void s.once('finish', resolve);
      s.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * The session's channel over a connected socket (see the file comment). `head`: bytes that arrived before the
 * socket was handed over (the `head` of Node's 'upgrade' event), delivered first.
 */
export function socketChannel(socket: Socket, opts: SocketChannelOptions = {}): Channel {
  const whwm = opts.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK;
  if (!(whwm >= 0)) throw new RangeError('writeHighWaterMark must be >= 0');
  return new SocketPort(socket, whwm, opts).channel;
}
