/**
 * A WebSocket the platform owns (Deno.upgradeWebSocket's socket, Bun.serve's ServerWebSocket, workerd's
 * WebSocketPair end), presented through the same session as one our codec runs: a readable of messages, a
 * writable with backpressure, the close handshake's outcome in `closed`. The platform frames, masks, compresses
 * and answers pings; this module only moves whole messages and close codes. Runtime-free: a binder (see
 * request-upgrade.ts) feeds the platform's events into the PlatformConnection and tells it what the platform
 * offers for backpressure.
 *
 * What the platform's API allows, and so what this presentation can and cannot do:
 * - Outgoing backpressure: Bun's send() returns -1 once its buffer is over the limit and `drain` follows, so a
 *   write resolves at the drain. Elsewhere `bufferedAmount` is polled (each turn at first, then every 1..`POLL_MS` ms)
 *   while above the writable's high-water mark; where the platform reports 0 always (workerd), writes never wait.
 * - Incoming: no platform lets a server pause one WebSocket's reading, so messages are queued in the readable as
 *   they come. A reader that falls more than `maxReadBacklog` bytes behind the readable's high-water mark (not
 *   counting the message arriving) is closed with 1008 instead of letting the queue grow.
 * - ping() needs a platform ping with pong events (Bun); elsewhere it rejects with NotSupportedError.
 * - The close timeout: if the peer never answers our close frame, after `closeTimeout` the platform socket is
 *   terminated where it can be (Bun's terminate()) and `closed` rejects with 1006.
 */
import { ReadableStream, WritableStream } from '@web-std/stream';
import { markOwned } from '@streamsocket/codec';
import { WebSocketError } from './errors.js';
import { CLOSED, CLOSING, OPEN, type CloseInfo, type ReadyState, type ReceiveData, type SendData } from './connection.js';
import type { ResolvedOptions } from './options.js';
import { collectBody, outgoingBody, wholeAsStream, type StreamedMessage } from './message-stream.js';
import { Pings, pingPayload } from './pings.js';
import { Inbox, SerialWrites, type MessageListener, type MessageQueue } from './inbox.js';

/** The part of a platform WebSocket this module uses. */
export interface PlatformSocket {
  /** Bun returns a number (-1: queued over the backpressure limit, 0: dropped); the others nothing. */
  send(data: string | Uint8Array): unknown;
  close(code?: number, reason?: string): void;
}

/** How a binder describes its platform socket. */
export interface PlatformBinding {
  socket: PlatformSocket;
  /** send() returns -1 when over the platform's limit, and onDrain() follows (Bun). */
  sendSignalsBackpressure?: boolean;
  /** Bytes queued by the platform and not yet written (WHATWG `bufferedAmount`, Bun's getBufferedAmount()). */
  bufferedAmount?: () => number;
  /** Sends a ping; the platform reports pongs to onPong() (Bun). */
  ping?: (data: Uint8Array) => void;
  /** Drops the connection at once (Bun's terminate()). */
  terminate?: () => void;
  /** Bytes the reader may lag behind the readable's high-water mark before the connection is closed with 1008. */
  maxReadBacklog: number;
}

/** What WebSocketStream needs of a running session (Connection and PlatformConnection both are one). */
export interface SessionCore {
  /** Whole messages, or StreamedMessage objects with `streamMessages` (message-stream.ts). */
  readonly readable: ReadableStream<ReceiveData | StreamedMessage>;
  readonly writable: WritableStream<SendData>;
  readonly readyState: ReadyState;
  readonly bufferedAmount: number;
  close(code: number | null, reason: string): void;
  ping(data?: Uint8Array): Promise<void>;
  /** True while listen() would take the messages (no readable made yet, whole messages). */
  readonly listenable: boolean;
  /** Hands each whole message to `l` as it arrives, and makes no readable (inbox.ts); false when it cannot. */
  listen(l: MessageListener): boolean;
  /** A writer's write() on the writable, without a writable (for a listener, which has none). */
  write(chunk: SendData): Promise<void>;
}

export interface ClosedHandle {
  promise: Promise<CloseInfo>;
  resolve: (v: CloseInfo) => void;
  reject: (e: unknown) => void;
}

/** Longest interval between two looks at bufferedAmount while a write waits for the platform's buffer to empty. */
export const POLL_MS = 5;
/** Looks at bufferedAmount on the next turns of the event loop before backing off. */
const FAST_POLLS = 20;
/** Default of `maxReadBacklog`. */
export const DEFAULT_MAX_READ_BACKLOG = 1024 * 1024;

function chunkSize(chunk: unknown): number {
  if (typeof chunk === 'string') return chunk.length;
  if (chunk instanceof ArrayBuffer) return chunk.byteLength;
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength;
  if (typeof Blob !== 'undefined' && chunk instanceof Blob) return chunk.size;
  return 0;
}

function receivedSize(chunk: ReceiveData): number {
  return typeof chunk === 'string' ? chunk.length : chunk.byteLength;
}


/** Byte sizes of the one-piece streams handed out with streamMessages (the readable's strategy counts bytes). */
const streamedSizes = new WeakMap<object, number>();

export class PlatformConnection implements SessionCore {
  readyState: ReadyState = OPEN;
  bufferedAmount = 0;
  /** Where messages go: an Inbox until the readable is made, or for good once a listener took them (as Connection). */
  private readCtrl: MessageQueue;
  private writeCtrl: WritableStreamDefaultController | undefined = undefined;
  private readStream: ReadableStream<ReceiveData | StreamedMessage> | null = null;
  private writeStream: WritableStream<SendData> | null = null;
  private serial: SerialWrites | null = null;
  private readonly b: PlatformBinding;
  private readonly opts: ResolvedOptions;
  private readonly closedHandle: ClosedHandle;
  private readableDone = false;
  private drainWaiters: Array<() => void> = [];
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private pings: Pings | null = null;
  /** Close requested while writes accepted before it were still going out. */
  private pendingClose: { code: number | null; reason: string } | null = null;
  private closeSent = false;
  private writeSeq = 0;
  private doneSeq = 0;
  private acceptSeq = Infinity;

  constructor(binding: PlatformBinding, options: ResolvedOptions, closed: ClosedHandle) {
    this.b = binding;
    this.opts = options;
    this.closedHandle = closed;
    this.readCtrl = new Inbox(options.readHighWaterMark);
    // A streamed message's size in the readable is its bytes, which the Inbox does not count: made at once.
    if (options.streamMessages) void this.readable;
  }

  /** The readable, made when first asked for (messages before that wait in the Inbox); locked once a listener has them. */
  get readable(): ReadableStream<ReceiveData | StreamedMessage> {
    let rs = this.readStream;
    if (rs === null) {
      rs = this.readStream = new ReadableStream<ReceiveData | StreamedMessage>(
        {
          start: (c) => {
            const q = this.readCtrl;
            if (!(q instanceof Inbox) || q.listener !== null) return;
            q.replay(c);
            this.readCtrl = c;
          },
          cancel: () => {
            this.readableDone = true;
            this.close(null, '');
          },
        },
        { highWaterMark: this.opts.readHighWaterMark, size: (m) => (typeof m === 'object' && !(m instanceof Uint8Array) ? streamedSizes.get(m) ?? 0 : receivedSize(m)) },
      );
      if (Inbox.listening(this.readCtrl)) rs.getReader();
    }
    return rs;
  }

  /** The writable, made when first asked for; locked once a listener has the messages (it sends with write()). */
  get writable(): WritableStream<SendData> {
    let ws = this.writeStream;
    if (ws === null) {
      ws = this.writeStream = new WritableStream<SendData>(
        {
          start: (c) => {
            this.writeCtrl = c;
            if (this.readyState === CLOSED) c.error(new DOMException('The WebSocket is closed.', 'InvalidStateError'));
          },
          write: (chunk) => this.sinkWrite(chunk),
          close: () => this.close(null, ''),
          abort: (reason: unknown) => {
            this.writeSeq = this.doneSeq;
            if (reason instanceof WebSocketError && reason.closeCode !== null) this.close(reason.closeCode, reason.reason);
            else this.close(null, '');
          },
        },
        { highWaterMark: this.opts.writeHighWaterMark, size: (chunk: SendData) => this.countWrite(chunk) },
      );
      if (Inbox.listening(this.readCtrl)) ws.getWriter();
    }
    return ws;
  }

  get listenable(): boolean {
    return Inbox.canListen(this.readCtrl, this.opts.streamMessages);
  }

  /** As Connection.listen: each whole message to `l` as the platform delivers it, the held ones first, no readable. */
  listen(l: MessageListener): boolean {
    const q = this.readCtrl;
    if (!Inbox.canListen(q, this.opts.streamMessages)) return false;
    q.attach(l);
    return true;
  }

  /** As Connection.write: a write accepted now, sent after the ones before it, without a writable. */
  write(chunk: SendData): Promise<void> {
    this.countWrite(chunk);
    return (this.serial ??= new SerialWrites((c) => this.sinkWrite(c))).push(chunk);
  }

  /** The writable's strategy size(), and write()'s count: orders the write before a later close(). */
  private countWrite(chunk: SendData): number {
    this.writeSeq++;
    const n = chunkSize(chunk);
    this.bufferedAmount += n;
    return n;
  }

  // ------------------------------------------------------------ from the platform

  /** A whole message from the platform: a string, or binary as ArrayBuffer or any byte view. */
  onMessage(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readableDone || this.readyState === CLOSED) return;
    let m: ReceiveData;
    if (typeof data === 'string') m = data;
    else if (data instanceof ArrayBuffer) {
      m = new Uint8Array(data);
      markOwned(m); // a fresh ArrayBuffer per message event: the WebSocket class may hand it out without a copy
    }
    // A plain Uint8Array is handed on as it is: re-viewing it reads `.buffer`, which in JavaScriptCore makes the
    // engine allocate an ArrayBuffer for the array (and move small arrays' bytes out of line): a third of the
    // route's CPU per 16-byte message on Bun.serve. Subclasses (Node's Buffer) are re-viewed as Uint8Array.
    else if (data.constructor === Uint8Array) m = data as Uint8Array;
    else m = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this.readyState !== OPEN && (this.readCtrl.desiredSize ?? 0) <= 0) return; // closing: what fits, as Connection
    // The backlog is what waits before this message: a reader at most one message behind is never closed, whatever
    // the message's size (up to maxMessageSize; a 1 MiB echo with two messages in flight was closed otherwise).
    const behind = (this.readCtrl.desiredSize ?? 0) < -this.b.maxReadBacklog;
    if (this.opts.streamMessages) {
      // The platform hands over whole messages: each is a one-piece stream, so the reader's code is the same.
      const sm = wholeAsStream(m);
      streamedSizes.set(sm, receivedSize(m));
      this.readCtrl.enqueue(sm);
    } else {
      this.readCtrl.enqueue(m);
    }
    if (behind && this.readyState === OPEN) {
      this.close(1008, 'reader too slow');
    }
  }

  /** The platform's buffer went below its limit (Bun's drain). */
  onDrain(): void {
    const w = this.drainWaiters;
    if (w.length === 0) return;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  onPong(data: Uint8Array): void {
    this.pings?.pong(data);
  }

  /**
   * The platform's close event. `clean`: the close handshake completed (a close frame came with or without a
   * code); false for a dropped connection (code 1006).
   */
  onClose(code: number, reason: string, clean = code !== 1006): void {
    if (this.readyState === CLOSED) return;
    if (!this.closeSent) {
      // Peer-initiated: make sure the platform answers (most do by themselves; a second close is ignored).
      this.closeSent = true;
      try {
        if (clean) this.b.socket.close(code === 1005 ? undefined : code, code === 1005 ? undefined : reason);
      } catch {
        /* already closed */
      }
    }
    this.finish(clean, { closeCode: clean ? code : 1006, reason: clean ? reason : '' });
  }

  /** The platform reported an error (the close event follows, or the connection is gone). */
  onError(e: unknown): void {
    if (this.readyState === CLOSED) return;
    this.finish(false, { closeCode: 1006, reason: '' }, e);
  }

  // ------------------------------------------------------------ to the platform

  /**
   * The writable's sink: strings and Uint8Arrays the platform takes at once, without an async frame per message
   * (the common case, and the one whose per-message cost shows at small sizes); the rest in sinkWriteSlow().
   */
  private sinkWrite(chunk: SendData): void | Promise<void> {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return this.sinkWriteSlow(chunk);
    const seq = this.doneSeq + 1;
    const size = typeof chunk === 'string' ? chunk.length : chunk.byteLength;
    if (this.readyState === CLOSED || this.closeSent || seq > this.acceptSeq) {
      this.settleWrite(seq, size);
      throw new DOMException('The WebSocket is closing or closed.', 'InvalidStateError');
    }
    const r = this.sendNow(chunk);
    if (r === 0) {
      this.settleWrite(seq, size);
      throw new DOMException('The platform dropped the message: the WebSocket is closed.', 'InvalidStateError');
    }
    const wait = this.whenWritable(r);
    if (wait === undefined) return this.settleWrite(seq, size);
    return wait.then(() => this.settleWrite(seq, size));
  }

  private settleWrite(seq: number, size: number): void {
    this.bufferedAmount -= size;
    this.doneSeq = seq;
    if (this.pendingClose && seq >= this.acceptSeq) this.sendClose();
  }

  private async sinkWriteSlow(chunk: SendData): Promise<void> {
    const size = chunkSize(chunk);
    const seq = this.doneSeq + 1;
    try {
      if (this.readyState === CLOSED || this.closeSent || seq > this.acceptSeq) {
        throw new DOMException('The WebSocket is closing or closed.', 'InvalidStateError');
      }
      let data: string | Uint8Array;
      if (typeof chunk === 'string') data = chunk;
      else if (chunk instanceof Uint8Array) data = chunk;
      else if (chunk instanceof ArrayBuffer) data = new Uint8Array(chunk);
      else if (ArrayBuffer.isView(chunk)) data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      else if (typeof Blob !== 'undefined' && chunk instanceof Blob) data = new Uint8Array(await chunk.arrayBuffer());
      else {
        const body = outgoingBody(chunk);
        // The platform's WebSocket sends whole messages only: a streamed body is read whole, up to maxMessageSize.
        if (body !== null) data = await collectBody(body, this.opts.maxMessageSize);
        else {
          if (this.readyState === OPEN) queueMicrotask(() => this.close(null, ''));
          throw new TypeError('WebSocket data must be a string, ArrayBuffer, ArrayBufferView, Blob or a stream body');
        }
      }
      const r = this.sendNow(data);
      if (r === 0) throw new DOMException('The platform dropped the message: the WebSocket is closed.', 'InvalidStateError');
      await this.whenWritable(r);
    } finally {
      this.bufferedAmount -= size;
      this.doneSeq = seq;
      if (this.pendingClose && seq >= this.acceptSeq) this.sendClose();
    }
  }

  /** Sends now; -1 over the platform's limit, 0 dropped, else sent (binders normalise). */
  sendNow(data: string | Uint8Array): number {
    let r: unknown;
    try {
      r = this.b.socket.send(data);
    } catch {
      // The platform refused: closed meanwhile (its close event says how it ended), or, in workerd, a socket of
      // another request's context. Not delivered; the session itself is left to the platform's events.
      return 0;
    }
    return typeof r === 'number' ? r : 1;
  }

  /** Resolves once the platform can take more (at once when it can now). */
  whenWritable(sendResult = 1): Promise<void> | void {
    if (this.b.sendSignalsBackpressure) {
      if (sendResult !== -1) return;
      return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    const buffered = this.b.bufferedAmount;
    if (!buffered || buffered() <= this.opts.writeHighWaterMark) return;
    // Polled every turn of the event loop at first (the platform writes between two turns), then backing off to
    // POLL_MS for a peer that stays slow: a fixed 5 ms wait capped a fast platform's throughput.
    return new Promise<void>((resolve) => {
      let polls = 0;
      const poll = (): void => {
        if (this.readyState === CLOSED || buffered() <= this.opts.writeHighWaterMark) return resolve();
        polls++;
        setTimeout(poll, polls < FAST_POLLS ? 0 : Math.min(POLL_MS, polls - FAST_POLLS + 1));
      };
      setTimeout(poll, 0);
    });
  }

  /** True while the platform reports its buffer over the writable's high-water mark. */
  get congested(): boolean {
    if (this.drainWaiters.length > 0) return true;
    const buffered = this.b.bufferedAmount;
    try {
      return buffered !== undefined && buffered() > this.opts.writeHighWaterMark;
    } catch {
      return false; // unreadable from here (workerd: another request's socket); send() will say
    }
  }

  close(code: number | null, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.pendingClose = { code, reason };
    this.acceptSeq = this.writeSeq;
    this.closeTimer = setTimeout(() => this.onCloseTimeout(), this.opts.closeTimeout);
    if (this.doneSeq >= this.acceptSeq) this.sendClose();
  }

  private sendClose(): void {
    const pc = this.pendingClose;
    if (!pc || this.closeSent) return;
    this.pendingClose = null;
    this.closeSent = true;
    try {
      if (pc.code === null) this.b.socket.close();
      else this.b.socket.close(pc.code, pc.reason);
    } catch (e) {
      this.onError(e);
    }
  }

  private onCloseTimeout(): void {
    this.closeTimer = null;
    if (this.readyState === CLOSED) return;
    try {
      this.b.terminate?.();
    } catch {
      /* gone already */
    }
    this.finish(false, { closeCode: 1006, reason: '' }, new Error('close timeout: the peer did not answer the close frame'));
  }

  ping(data?: Uint8Array): Promise<void> {
    if (this.readyState !== OPEN) return Promise.reject(new DOMException('The WebSocket is not open.', 'InvalidStateError'));
    const ping = this.b.ping;
    if (!ping) return Promise.reject(new DOMException('This platform WebSocket cannot send pings.', 'NotSupportedError'));
    const payload = pingPayload(data);
    if (payload instanceof RangeError) return Promise.reject(payload);
    const pong = (this.pings ??= new Pings()).wait(payload);
    ping(payload);
    return pong;
  }

  private finish(clean: boolean, info: CloseInfo, cause?: unknown): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.onDrain();
    let err: WebSocketError | null = null;
    if (clean) {
      if (!this.readableDone) {
        this.readableDone = true;
        try {
          this.readCtrl.close();
        } catch {
          /* closed */
        }
      }
      // A turn later, so that a pipe from the readable (just closed) can close the writable cleanly first, as it
      // can with the codec engine (whose transport closes after the close frames).
      setTimeout(() => {
        try {
          this.writeCtrl?.error(new DOMException('The WebSocket is closed.', 'InvalidStateError'));
        } catch {
          /* closed or errored */
        }
      }, 0);
      this.closedHandle.resolve(info);
    } else {
      const msg = cause instanceof Error ? cause.message : 'the connection was closed abnormally';
      err = WebSocketError.internal(msg, 1006, '', cause);
      if (!this.readableDone) {
        this.readableDone = true;
        try {
          this.readCtrl.error(err);
        } catch {
          /* closed */
        }
      }
      try {
        this.writeCtrl?.error(err);
      } catch {
        /* errored */
      }
      this.closedHandle.reject(err);
    }
    this.pings?.rejectAll(err);
  }
}


