/**
 * Binds a connected `net.Socket` (or `tls.TLSSocket`) to the `{ readable, writable }` byte pair the session
 * consumes. This is the only place where Node's stream model meets WHATWG streams, so it is where copies and
 * lost backpressure would hide; both are avoided deliberately:
 *
 * - readable: pull-based. Every 'data' Buffer is enqueued as a plain `Uint8Array` *view* of the same memory (no
 *   copy; a view rather than the Buffer itself so consumers get standard `slice()` copy semantics, not Buffer's
 *   aliasing one). The queue counts bytes; once it holds `readHighWaterMark` bytes the socket is paused, so the
 *   kernel's receive window closes and the peer is slowed down. `pull()` (the consumer wants more) resumes it.
 * - writable: `write()` hands the chunk to `socket.write()` (Node wraps a Uint8Array without copying). When that
 *   returns false (Node's buffer is above its high-water mark) the write's promise waits for 'drain', which is
 *   what makes the session's writer wait too. Writes that fit resolve synchronously: no callback, no promise.
 * - close() → `socket.end()` (FIN after everything queued was flushed), abort() → `socket.destroy()` (RST-like).
 * - a socket error, or the socket closing before a clean EOF, errors both streams, so the session reports 1006.
 *
 * The socket is destroyed once both directions are finished, so a file descriptor never outlives its streams.
 *
 * Measured against `stream.Duplex.toWeb(socket)`: see packages/node/README.md and bench/node-binding.
 */
import type { Socket } from 'node:net';
import { ReadableStream, WritableStream } from '@web-std/stream';

export interface SocketStreamsOptions {
  /**
   * Bytes the readable may queue before the socket is paused. Default 64 KiB: one Node read (Node reads up to
   * 64 KiB at a time), so a consumer that keeps up never pauses the socket, one that does not holds at most
   * ~128 KiB (this queue plus the kernel buffer) per connection.
   */
  readHighWaterMark?: number;
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
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** Default readable high-water mark, in bytes. */
export const DEFAULT_READ_HIGH_WATER_MARK = 64 * 1024;

const byteLength = (chunk: Uint8Array): number => chunk.byteLength;

/** A view of a Buffer's memory typed as a plain Uint8Array (no copy). */
function view(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function closedError(): Error {
  const e = new Error('socket closed before the stream ended') as Error & { code: string };
  e.code = 'ECONNRESET';
  return e;
}

export function socketStreams(socket: Socket, opts: SocketStreamsOptions = {}): SocketStreams {
  const hwm = opts.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK;
  if (!(hwm >= 0)) throw new RangeError('readHighWaterMark must be >= 0');

  let readCtrl: ReadableStreamDefaultController<Uint8Array> | undefined;
  let writeCtrl: WritableStreamDefaultController | undefined;
  let readDone = false;
  let writeDone = false;
  /** Pending write waiting for 'drain' (at most one: WritableStream serialises writes). */
  let drainWait: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  let failure: unknown;

  const lingerMs = opts.lingerMs ?? 2000;
  let lingering = false;
  const linger = (): void => {
    if (lingering || socket.destroyed) return;
    lingering = true;
    if (socket.readableEnded) return void socket.destroy();
    const t = setTimeout(() => socket.destroy(), lingerMs);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  };
  /** Both directions finished: release the descriptor (after draining unread input, see `lingerMs`). */
  const maybeDestroy = (): void => {
    if (readDone && writeDone && !socket.destroyed) linger();
  };

  const onData = (chunk: Buffer): void => {
    if (readDone || !readCtrl) return; // cancelled: discard (we keep reading only so the peer's FIN is seen)
    readCtrl.enqueue(view(chunk));
    if ((readCtrl.desiredSize ?? 0) <= 0) socket.pause();
  };
  const onEnd = (): void => {
    if (!readDone) {
      readDone = true;
      try { readCtrl?.close(); } catch { /* already closed */ }
    }
    maybeDestroy();
  };
  const fail = (err: unknown): void => {
    failure ??= err;
    if (!readDone) {
      readDone = true;
      try { readCtrl?.error(failure); } catch { /* already closed */ }
    }
    if (!writeDone) {
      writeDone = true;
      try { writeCtrl?.error(failure); } catch { /* already closed */ }
    }
    if (drainWait) { drainWait.reject(failure); drainWait = undefined; }
  };
  const onError = (err: Error): void => fail(err);
  const onClose = (): void => {
    // 'close' after 'end' and 'finish' is the normal end; anything still open was cut off.
    if (!readDone || !writeDone) fail(failure ?? closedError());
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('drain', onDrain);
  };
  const onDrain = (): void => {
    const w = drainWait;
    drainWait = undefined;
    w?.resolve();
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        readCtrl = c;
        const head = opts.head === undefined ? [] : Array.isArray(opts.head) ? opts.head : [opts.head];
        for (const h of head) if (h.byteLength > 0) c.enqueue(h);
        if (socket.destroyed) {
          // Already gone before we were handed the socket: deliver what we have, then 1006.
          queueMicrotask(() => fail(closedError()));
          return;
        }
        socket.on('data', onData);
        socket.on('end', onEnd);
        socket.on('error', onError);
        socket.on('close', onClose);
        socket.on('drain', onDrain);
        if ((c.desiredSize ?? 0) <= 0) socket.pause();
      },
      pull() {
        if (socket.isPaused()) socket.resume();
      },
      cancel() {
        readDone = true;
        // Keep draining (and discarding) so the peer's FIN still ends the socket: a paused socket would never see
        // it. See `lingerMs` for why we do not simply destroy here.
        socket.resume();
        if (writeDone) linger();
      },
    },
    { highWaterMark: hwm, size: byteLength },
  );

  const writable = new WritableStream<Uint8Array>({
    start(c) {
      writeCtrl = c;
    },
    write(chunk) {
      if (failure !== undefined) throw failure;
      if (!(chunk instanceof Uint8Array)) throw new TypeError('socket writable accepts Uint8Array chunks only');
      if (chunk.byteLength === 0) return undefined;
      if (socket.write(chunk)) return undefined;
      return new Promise<void>((resolve, reject) => {
        drainWait = { resolve, reject };
      });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        const finish = (): void => {
          writeDone = true;
          resolve();
          maybeDestroy();
        };
        if (socket.writableFinished || socket.destroyed) return finish();
        if (socket.writableEnded) {
          socket.once('finish', finish);
          return;
        }
        socket.end((err?: Error | null) => (err ? reject(err) : finish()));
      });
    },
    abort(reason) {
      writeDone = true;
      failure ??= reason ?? new Error('aborted');
      if (!readDone) {
        readDone = true;
        try { readCtrl?.error(failure); } catch { /* already closed */ }
      }
      socket.destroy();
    },
  });

  return { readable, writable };
}
