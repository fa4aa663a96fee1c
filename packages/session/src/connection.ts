/**
 * The core of a WebSocket session after the opening handshake: owns the codec
 * cores (see wire.ts), ping/pong and timers, and drives the closing handshake's
 * state (close-state.ts, no I/O: this class carries out what it answers). The
 * public wrappers (WebSocketStream-shaped sessions, the WebSocket class) are thin
 * layers over this class.
 *
 * Data flow
 *   channel --onData()--> Wire.decode --> user readable, or a listener (the WebSocket class; inbox.ts)
 *                          (control frames handled inline)
 *   user writable, or write() --sinkWrite()--> Wire.encodeData --> channel.write()
 * The readable and the writable are made when first asked for, so a session whose messages a listener takes
 * has neither.
 *   pong / ping / close ----------> Wire.encodeControl --> channel.write() (same order)
 *
 * Frames are written synchronously: a data message's frames go out back to
 * back, control frames between messages, and the close frame after every
 * message the writable had accepted before close() (tracked by sequence
 * numbers, see sinkWrite). Pongs are bounded: when the socket is congested only
 * the latest ping's payload is kept, to be answered when it drains (RFC 6455
 * 5.5.3 allows answering only the latest ping).
 *
 * Backpressure: the channel pushes chunks while the user readable's queue
 * (byte-sized, `readHighWaterMark`) has room and is paused otherwise (parked
 * until the next pull()), so a reader that stops reading stops the socket
 * being read after at most one more socket chunk. On the way out, sinkWrite()
 * resolves once the channel is no longer congested, so the user's
 * `writer.ready` follows the socket.
 */
import { CodecError, MessageFramer } from '@streamsocket/codec';
import type { DeflateAgreement, EncoderOptions, FramerHost, IncomingMessage, MessageChunk, Role } from '@streamsocket/codec';
import { ReadableStream, WritableStream } from '@web-std/stream';
import { WebSocketError } from './errors.js';
import { timers, type TimerEntry, type TimerTarget } from './timers.js';
import type { ByteChannel, ChannelSink } from './channel.js';
import type { ResolvedOptions } from './options.js';
import { Wire, OP_PING, OP_PONG } from './wire.js';
import { IncomingMessageStream, outgoingBody, type MessageStreamOwner, type OutgoingStream, type StreamedMessage } from './message-stream.js';
import { Pings, pingPayload } from './pings.js';
import {
  CloseState, END_READABLE, WAKE_READER, PAUSE_INPUT, ARM_TIMER, REARM_TIMER, AWAIT_READER, SEND_CLOSE, SEND_CLOSE_NOW, FAIL_READABLE,
  SHUTDOWN, ABORT, FINISH_AFTER_FLUSH, FINISH, STOP_READING,
} from './close-state.js';
import { Inbox, SerialWrites, receivedSize, type MessageListener, type MessageQueue } from './inbox.js';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;
export type ReadyState = 0 | 1 | 2 | 3;

/** What the user writable accepts: a whole message, or a body sent piece by piece (message-stream.ts). */
export type SendData = string | ArrayBuffer | ArrayBufferView | Blob | ReadableStream<Uint8Array> | OutgoingStream;
/** What the user readable yields: whole messages, or with `streamMessages` a {@link StreamedMessage} each. */
export type ReceiveData = string | Uint8Array;

export interface CloseInfo {
  closeCode: number;
  reason: string;
}

export interface ConnectionInit {
  role: Role;
  conn: ByteChannel;
  /** Bytes that followed the HTTP head: the first frames. Fed to the decoder first. */
  rest: Uint8Array;
  options: ResolvedOptions;
  deflate: DeflateAgreement | null;
  /**
   * The owner's own `closed` promise and its resolvers, to settle directly (a WebSocketStream has one
   * before the connection exists): saves a second promise, its resolvers and the chaining per connection.
   */
  closed?: { promise: Promise<CloseInfo>; resolve: (v: CloseInfo) => void; reject: (e: unknown) => void };
}

const TIMER_CLOSE = 1;
const TIMER_KEEPALIVE = 2;
const TIMER_IDLE = 3;
const TIMER_FAIL = 4;

const noop = (): void => {};

function chunkSize(chunk: unknown): number {
  if (typeof chunk === 'string') return chunk.length;
  if (chunk instanceof ArrayBuffer) return chunk.byteLength;
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength;
  if (typeof Blob !== 'undefined' && chunk instanceof Blob) return chunk.size;
  return 0;
}



export class Connection implements TimerTarget, ChannelSink, MessageStreamOwner {
  readonly role: Role;
  /** Resolves on a clean close; rejects with WebSocketError (closeCode 1006) otherwise. Marked handled. */
  readonly closed: Promise<CloseInfo>;
  /** Bytes accepted by the writable and not yet handed to the encoder. */
  bufferedAmount = 0;

  private readonly opts: ResolvedOptions;
  /** The transport: read in push mode, written synchronously, ended and aborted through it. */
  private readonly channel: ByteChannel;
  private readonly wire: Wire;
  /** Scratch list the encoder appends wire chunks to (reused: no array per frame). */
  private readonly out: Uint8Array[] = [];
  /**
   * Where decoded messages go: an Inbox until the readable is made (Source.start puts the readable's controller
   * here) or for good once a listener took over (listen()). The code below asks it as a readable's controller.
   */
  private readCtrl: MessageQueue;
  private readStream: ReadableStream<ReceiveData | StreamedMessage> | null = null;
  private writeStream: WritableStream<SendData> | null = null;
  /** The readable's high-water mark: readHighWaterMark bytes, or 1 message with streamMessages. */
  private readonly readHwm: number;
  /** streamMessages: the message being received; while set, its stream's demand decides whether to read. */
  private active: IncomingMessageStream | null = null;
  /** streamMessages: the rest of the current message is dropped (its stream was cancelled, or closing). */
  private skipping = false;
  /** streamMessages: the readable was pulled while a message was current (its next message is wanted). */
  private outerWants = false;
  /** @internal set by Sink.start (absent while no writable was made) */
  writeCtrl: WritableStreamDefaultController | undefined = undefined;
  private resolveClosed!: (v: CloseInfo) => void;
  private rejectClosed!: (e: unknown) => void;

  /** Settles when the socket's write side is closed or failed; made when first waited for (closing). */
  private writeDone: Promise<void> | null = null;
  private writeDoneResolve: (() => void) | null = null;
  /** Push mode (channel): paused because the user readable is full, until its next pull(). */
  private parked = false;
  private readableDone = false;
  private pullWaiter: (() => void) | null = null;
  private pullPending = false;
  /** Messages enqueued so far, and at the start of the current onData (see parkIfFull). */
  private enqueued = 0;
  private enqueuedBefore = 0;

  /** The closing handshake's state (close-state.ts): null while open and nothing went wrong (an idle connection). */
  private cs: CloseState | null = null;
  /** A protocol error waits for the reader (AWAIT_READER): one more turn for its writes, then readerDone(). */
  private failTimer: TimerEntry | null = null;

  // Outgoing ordering: `writeSeq` counts writes accepted by the writable (in the
  // strategy's size(), which runs synchronously in write()), `doneSeq` writes the
  // sink has finished. A close waits for doneSeq to reach the writeSeq it saw.
  private writeSeq = 0;
  private sinkSeq = 0;
  private doneSeq = 0;
  private acceptSeq = Infinity;

  // Pings and pongs.
  private nextPong: Uint8Array | null = null;
  private pings: Pings | null = null;

  // Timers: entries exist only while the corresponding feature is active.
  private closeTimer: TimerEntry | null = null;
  private keepaliveTimer: TimerEntry | null = null;
  private idleTimer: TimerEntry | null = null;
  private lastReceived = 0;
  private lastActivity = 0;
  private keepalivePingAt = 0;
  private readonly trackTime: boolean;

  constructor(init: ConnectionInit) {
    const o = init.options;
    this.opts = o;
    this.role = init.role;
    if (init.closed) {
      this.closed = init.closed.promise;
      this.resolveClosed = init.closed.resolve;
      this.rejectClosed = init.closed.reject;
    } else {
      this.closed = new Promise<CloseInfo>((res, rej) => {
        this.resolveClosed = res;
        this.rejectClosed = rej;
      });
      this.closed.catch(noop);
    }

    const ch = init.conn;
    this.channel = ch;
    this.wire = new Wire(init.role, o, init.deflate);

    // With streamMessages the readable queues at most one message ahead of the reader (each counts 1), so control
    // frames (a close, pings) are still read while the reader works; a message's bytes are bounded by its own
    // stream's high-water mark, and the next message starts only when the current one ended.
    this.readHwm = o.streamMessages ? 1 : o.readHighWaterMark;
    this.readCtrl = new Inbox(this.readHwm);

    this.trackTime = o.keepaliveInterval > 0 || o.idleTimeout > 0;
    if (this.trackTime) {
      const now = Date.now();
      this.lastReceived = now;
      this.lastActivity = now;
      if (o.keepaliveInterval > 0) this.keepaliveTimer = timers.schedule(this, TIMER_KEEPALIVE, o.keepaliveInterval);
      if (o.idleTimeout > 0) this.idleTimer = timers.schedule(this, TIMER_IDLE, o.idleTimeout);
    }

    // Push mode: the bytes after the head first, then the channel's chunks (kept queued while paused).
    if (init.rest.byteLength > 0) this.onData(init.rest);
    ch.listen(this);
  }

  /**
   * The user readable, made when first asked for (WebSocketStream's `opened` hands it out lazily); the messages
   * decoded before that waited in the Inbox. Once a listener took the messages (listen()), it is never fed and
   * comes locked, as the listener's.
   */
  get readable(): ReadableStream<ReceiveData | StreamedMessage> {
    let rs = this.readStream;
    if (rs === null) {
      // Underlying source/sink are tiny objects with prototype methods (no closures per connection).
      rs = this.readStream = new ReadableStream<ReceiveData | StreamedMessage>(new Source(this), { highWaterMark: this.readHwm, size: receivedSize });
      if (Inbox.listening(this.readCtrl)) rs.getReader();
    }
    return rs;
  }

  /** The user writable, made when first asked for; locked once a listener took the messages (it sends with write()). */
  get writable(): WritableStream<SendData> {
    let ws = this.writeStream;
    if (ws === null) {
      // size() is called without a `this`: bound (a bound function is smaller than a closure and its context).
      ws = this.writeStream = new WritableStream<SendData>(new Sink(this), { highWaterMark: this.opts.writeHighWaterMark, size: this.countWrite.bind(this) });
      if (Inbox.listening(this.readCtrl)) ws.getWriter();
    }
    return ws;
  }

  /**
   * Hands every whole message to `l` synchronously as soon as it is decoded, the ones held so far first, with no
   * backpressure, and makes no readable (inbox.ts): the WebSocket class's delivery. False when that is no longer
   * possible (the readable was made, messages are streamed, or a listener is there): read the readable then.
   */
  listen(l: MessageListener): boolean {
    const q = this.readCtrl;
    if (!Inbox.canListen(q, this.opts.streamMessages)) return false;
    q.attach(l);
    // The held messages may have paused the channel, or a protocol error may wait for them to be read.
    this.onPull();
    return true;
  }

  /** True while listen() would take over: no readable made, whole messages, no listener yet. */
  get listenable(): boolean {
    return Inbox.canListen(this.readCtrl, this.opts.streamMessages);
  }

  /** @internal Source.start: the readable takes the held messages and every later one (unless a listener has them). */
  onReadableStart(ctrl: ReadableStreamDefaultController<ReceiveData | StreamedMessage>): void {
    const q = this.readCtrl;
    if (!(q instanceof Inbox) || q.listener !== null) return;
    q.replay(ctrl);
    this.readCtrl = ctrl;
  }

  /** write()'s queue, made at its first call. */
  private serial: SerialWrites | null = null;

  /**
   * What a writer's write(chunk) on the user writable does, without a writable: the message is accepted now
   * (counted in bufferedAmount, and ahead of a close() called later) and encoded after the writes before it; the
   * promise settles as the writable's would. The WebSocket class sends through it when sendNow() cannot.
   */
  write(chunk: SendData): Promise<void> {
    this.countWrite(chunk);
    return (this.serial ??= new SerialWrites((c) => this.sinkWrite(c))).push(chunk);
  }

  /** @internal (ChannelSink) A chunk from the channel: decode it, then pause the channel while the reader is full. */
  onData(chunk: Uint8Array): void {
    const cs = this.cs;
    if (cs !== null && (cs.readyState === CLOSED || cs.error !== null)) return; // nothing after a protocol error is read
    if (this.trackTime) this.lastReceived = Date.now();
    this.enqueuedBefore = this.enqueued;
    let p: void | Promise<void>;
    try {
      p = this.wire.decode(chunk, this);
    } catch (e) {
      return this.onReadError(e);
    }
    const ch = this.channel;
    if (p) {
      // Inflating: no more input until it is done (and the reader has room).
      ch.pause();
      p.then(() => {
        if (this.readyState !== CLOSED && !this.parkIfFull()) ch.resume();
      }, (e: unknown) => this.onReadError(e));
      return;
    }
    if (this.parkIfFull()) ch.pause();
  }

  /** True (and parked) when the user readable has no room and no pull() asked for more since onData began. */
  private parkIfFull(): boolean {
    if (!this.readerFull()) {
      // The reader's demand is met once a message reached it (a chunk holding no whole message keeps it).
      if (this.enqueued !== this.enqueuedBefore) this.pullPending = false;
      return false;
    }
    this.parked = true;
    return true;
  }

  /**
   * The user readable is full: no room, and no pull() since the last message was enqueued (a pending read with
   * a zero high-water mark leaves desiredSize at 0, so pull() is what tells demand).
   */
  private readerFull(): boolean {
    const room = this.active !== null ? this.active.desiredSize : (this.readCtrl.desiredSize ?? 0);
    return this.readyState === OPEN && !this.readableDone && room <= 0 && !this.pullPending;
  }

  /** The user writable's strategy size(): runs synchronously inside writer.write(), the ordering point for close(). */
  private countWrite(chunk: SendData): number {
    this.writeSeq++;
    const n = chunkSize(chunk);
    this.bufferedAmount += n;
    return n;
  }

  // ---------------------------------------------------------------- input

  /**
   * Resolves when the user readable wants more (or at once while closing, when
   * we read regardless). Returns undefined when there is demand already.
   */
  waitForDemand(): void | Promise<void> {
    // Woken by pull(): there is demand, so the caller proceeds.
    if (this.readerFull()) return new Promise<void>((resolve) => (this.pullWaiter = resolve));
    this.pullPending = false;
  }

  /** @internal (MessageSink) */
  onMessage(m: IncomingMessage): void {
    switch (m.type) {
      case 'chunk':
        this.onChunk(m);
        return;
      case 'text':
      case 'binary':
        if (this.opts.idleTimeout > 0) this.lastActivity = Date.now();
        if (this.readableDone || this.cs?.received) return;
        // While closing, deliver what fits and discard the rest: the peer is
        // finishing, and we must keep reading to see its close frame.
        if (this.readyState !== OPEN && (this.readCtrl.desiredSize ?? 0) <= 0) return;
        this.readCtrl.enqueue(m.data);
        this.enqueued++;
        return;
      case 'ping':
        if (!this.cs?.pending && !this.cs?.sent) this.sendPong(m.data);
        return;
      case 'pong':
        this.onPong(m.data);
        return;
      case 'close':
        this.apply(this.closing().closeFrameReceived(m.code, m.reason));
        return;
    }
  }

  /** A piece of a data message (streamMessages): the first one hands the message's stream to the reader. */
  private onChunk(m: MessageChunk): void {
    if (m.first) {
      if (this.opts.idleTimeout > 0) this.lastActivity = Date.now();
      this.skipping = this.readableDone || !!this.cs?.received || (this.readyState !== OPEN && (this.readCtrl.desiredSize ?? 0) < 0);
      if (!this.skipping) {
        const s = new IncomingMessageStream(m.kind, this.opts.readHighWaterMark, this);
        this.active = s;
        this.readCtrl.enqueue(s.message);
        this.enqueued++;
      }
    }
    const s = this.active;
    if (s !== null) {
      if (this.readyState !== OPEN && s.desiredSize <= 0) {
        // Closing: we read regardless of demand to see the peer's close frame, so a message nobody reads ends here.
        s.error(new WebSocketError('The WebSocket is closing: the rest of the message was discarded.'));
        this.active = null;
        this.skipping = true;
      } else {
        s.push(m.data, m.last);
        this.enqueued++;
      }
    }
    if (m.last) {
      this.active = null;
      this.skipping = false;
      if (this.outerWants) {
        this.outerWants = false;
        this.pullPending = true;
      }
    }
  }

  /** @internal (MessageStreamOwner) The current message's reader wants more. */
  onMessagePull(): void {
    this.onPull();
  }

  /** @internal (MessageStreamOwner) The reader cancelled a message's stream: the rest of it is dropped. */
  onMessageCancel(m: IncomingMessageStream): void {
    if (this.active !== m) return;
    this.active = null;
    this.skipping = true;
    if (this.outerWants) {
      this.outerWants = false;
      this.pullPending = true;
    }
    if (this.parked && this.readyState !== CLOSED) {
      this.parked = false;
      this.channel.resume();
    }
  }

  /** @internal (ChannelSink) */
  onEof(): void {
    this.apply(this.closing().endOfInput());
  }

  /** @internal (ChannelSink) A read error, or the codec's protocol error (CodecError: its close code goes out). */
  onReadError(e: unknown): void {
    const cs = this.closing();
    this.apply(e instanceof CodecError ? cs.protocolError(e) : cs.readFailed(e));
  }

  // ---------------------------------------------------------------- output

  /** @internal Source.pull: the reader wants the next message. */
  onReadablePull(): void {
    if (this.active !== null && !this.cs?.error) {
      this.outerWants = true; // the current message's stream decides until it ends
      return;
    }
    this.onPull();
  }

  /** The reader wants more: the readable's next message, or the current message's next piece. */
  onPull(): void {
    if (this.cs?.error) return this.failWhenRead();
    const w = this.pullWaiter;
    if (w) {
      this.pullWaiter = null;
      return w();
    }
    // Remembered until a message reaches the reader (parkIfFull): the stream does not call pull() again before
    // that, and the next chunk may hold no whole message.
    this.pullPending = true;
    if (this.parked) {
      this.parked = false;
      this.channel.resume();
    }
  }

  /** @internal Source.cancel */
  onCancel(reason: unknown): void {
    this.readableDone = true;
    this.closeFromStream(reason, false);
  }

  /** @internal Sink.write */
  async sinkWrite(chunk: SendData): Promise<void> {
    const seq = ++this.sinkSeq;
    const size = chunkSize(chunk);
    try {
      if (seq > this.acceptSeq || this.cs?.sent || this.readyState === CLOSED) {
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
        if (body !== null) return await this.sendStreamed(body);
        // A bad chunk errors the writable (streams semantics); with no way left
        // to send, close the session too rather than leave it half-usable.
        if (this.readyState === OPEN) queueMicrotask(() => this.close(null, ''));
        throw new TypeError('WebSocket data must be a string, ArrayBuffer, ArrayBufferView, Blob or a stream body');
      }
      // A publish compressing through our own context goes first (see writeMessage).
      if (this.encoding !== null) await this.encoding;
      let chunks: Uint8Array[];
      try {
        const p = this.wire.encodeData(data, this.out);
        chunks = p ? await p : this.out;
      } catch (e) {
        // The encoder (compression) failed: our side is broken, say so.
        if (this.readyState === OPEN) queueMicrotask(() => this.close(1011, 'internal error'));
        throw e;
      }
      if (this.cs?.sent || (this.readyState as ReadyState) === CLOSED) {
        chunks.length = 0;
        throw new DOMException('The WebSocket is closing or closed.', 'InvalidStateError');
      }
      this.writeChunks(chunks);
      if (this.opts.idleTimeout > 0) this.lastActivity = Date.now();
      // Resolve (and let the user's writer.ready resolve) only while the socket keeps up.
      const ch = this.channel;
      if (ch.congested) await ch.drained();
    } finally {
      this.bufferedAmount -= size;
      this.doneSeq = seq;
      if (this.framed !== null) this.flushFramed();
      if (this.cs?.pending && seq >= this.acceptSeq) this.sendClose();
    }
  }

  /**
   * Sends a body piece by piece through the codec's MessageFramer: each piece a frame, the next piece pulled only
   * once the socket keeps up. Control frames may go between the pieces; published messages and our close frame
   * wait for the end (sequence numbers, as for any write). If the body fails mid-message, or we stop sending
   * (closing), the message cannot be finished, so the session closes (1011 for a failed body).
   */
  private async sendStreamed(body: { type: 'text' | 'binary'; source: ReadableStream<string | Uint8Array> }): Promise<void> {
    if (this.encoding !== null) await this.encoding;
    const own: Uint8Array[] = [];
    const fo: EncoderOptions = { role: this.role };
    if (this.opts.fragmentSize !== undefined) fo.fragmentSize = this.opts.fragmentSize;
    const framer = new MessageFramer(fo, this.wire.frameSink(own), null);
    const ch = this.channel;
    const host: FramerHost = {
      flush: () => {
        this.checkSending();
        this.writeChunks(own);
        if (this.opts.idleTimeout > 0) this.lastActivity = Date.now();
      },
      ready: async () => {
        if (ch.congested) await ch.drained();
        this.checkSending();
      },
    };
    try {
      await (body.type === 'text'
        ? framer.write({ type: 'text', data: body.source }, host)
        : framer.write({ type: 'binary', data: body.source as ReadableStream<Uint8Array> }, host));
      host.flush();
    } catch (e) {
      if (this.readyState === OPEN) queueMicrotask(() => this.close(1011, 'message body failed'));
      throw e;
    }
    if (ch.congested) await ch.drained();
  }

  /** Throws while nothing more may be sent: our close frame is out, the peer's came, or the session ended. */
  private checkSending(): void {
    const cs = this.cs;
    if (cs !== null && (cs.sent || cs.received !== null || cs.readyState === CLOSED)) {
      throw new DOMException('The WebSocket is closing or closed.', 'InvalidStateError');
    }
  }

  /**
   * Frames and writes a whole message now, when nothing is ahead of it: no write waiting in the writable, no
   * publish waiting, no compression agreed, the socket keeping up and the session open. Does nothing
   * otherwise (the caller then queues it through the writable). The WebSocket class's send() uses it: the
   * caller's buffer is free once this returns, as the frames hold copies of the bytes (a client's masked frame is
   * the copy; a server frame the encoder would not copy gets a snapshot here), so send() needs no copy of its own.
   * Returns the message's length in bytes (text: UTF-8), or -1 when it was not sent.
   */
  sendNow(data: string | Uint8Array): number {
    // Any close state (closing, a close frame in, a protocol error, the transport ending) sends through the writable.
    if (
      this.cs !== null || this.doneSeq < this.writeSeq || this.framed !== null || this.encoding !== null || this.channel.congested ||
      !this.wire.encodesNow
    ) {
      return -1;
    }
    const bytes = typeof data === 'string' || this.wire.copies(data) ? data : data.slice();
    let n: number;
    try {
      n = this.wire.encodeNow(bytes, this.out);
    } catch {
      this.out.length = 0;
      return -1; // the writable's path reports it
    }
    this.writeChunks(this.out);
    if (this.opts.idleTimeout > 0) this.lastActivity = Date.now();
    return n;
  }

  /**
   * Writes a message framed elsewhere (a topic's publish: the same bytes for every subscriber) after every
   * message the writable accepted before this call, ahead of any accepted after it. `frames` is shared: it is
   * written as is, never modified. False when the session no longer sends (closing or closed).
   */
  writeFramed(frames: readonly Uint8Array[]): boolean {
    if (this.readyState !== OPEN) return false;
    if (this.doneSeq >= this.writeSeq && this.framed === null && this.encoding === null) this.writeShared(frames);
    else (this.framed ??= []).push({ after: this.writeSeq, frames, data: null });
    return true;
  }

  /**
   * Like writeFramed, for a message this connection must encode itself: a publish to a peer whose
   * permessage-deflate context is kept between messages, so only our own compressor can compress it. Whatever
   * comes after it (published, written, our close frame) waits until it is written.
   */
  writeMessage(data: string | Uint8Array): boolean {
    if (this.readyState !== OPEN) return false;
    (this.framed ??= []).push({ after: this.writeSeq, frames: null, data });
    if (this.doneSeq >= this.writeSeq && this.encoding === null) this.flushFramed();
    return true;
  }

  /** Resolves once the transport is under its high-water mark (at once when it is), or has ended. */
  drained(): Promise<void> {
    return this.channel.drained();
  }

  /** True while the transport is over its high-water mark, or framed messages wait behind the writable's. */
  get sendCongested(): boolean {
    return this.framed !== null || this.encoding !== null || this.channel.congested;
  }

  /** Framed messages waiting for the writes accepted before them (see writeFramed). */
  private framed: Array<{ after: number; frames: readonly Uint8Array[] | null; data: string | Uint8Array | null }> | null = null;
  /** A published message compressing through our own context (writeMessage): the rest waits for it. */
  private encoding: Promise<void> | null = null;

  private flushFramed(): void {
    const q = this.framed!;
    let i = 0;
    while (this.encoding === null && i < q.length && q[i]!.after <= this.doneSeq) {
      const e = q[i++]!;
      if (e.frames !== null) this.writeShared(e.frames);
      else this.encodeOwn(e.data!);
    }
    if (i === q.length) this.framed = null;
    else q.splice(0, i);
  }

  private encodeOwn(data: string | Uint8Array): void {
    let p: void | Promise<Uint8Array[]>;
    try {
      p = this.wire.encodeData(data, this.out);
    } catch {
      if (this.readyState === OPEN) queueMicrotask(() => this.close(1011, 'internal error'));
      return;
    }
    if (!p) return this.writeChunks(this.out);
    this.encoding = p
      .then(
        (chunks) => {
          if (!this.cs?.sent && this.readyState !== CLOSED) this.writeChunks(chunks);
          else chunks.length = 0;
        },
        () => {
          if (this.readyState === OPEN) queueMicrotask(() => this.close(1011, 'internal error'));
        },
      )
      .then(() => {
        this.encoding = null;
        if (this.framed !== null) this.flushFramed();
        if (this.cs?.pending && this.doneSeq >= this.acceptSeq) this.sendClose();
      });
  }

  private writeShared(frames: readonly Uint8Array[]): void {
    const ch = this.channel;
    if (this.cs === null || !this.cs.shut) for (let i = 0; i < frames.length; i++) ch.write(frames[i]!);
    if (this.opts.idleTimeout > 0) this.lastActivity = Date.now();
  }

  /** Writes encoded chunks to the socket (in order; errors surface through writer.closed). */
  private writeChunks(chunks: Uint8Array[]): void {
    // After the transport started closing the channel, ended or aborted, would drop them anyway.
    const ch = this.channel;
    if (this.cs === null || !this.cs.shut) for (let i = 0; i < chunks.length; i++) ch.write(chunks[i]!);
    chunks.length = 0;
  }

  private sendControl(opcode: number, payload: Uint8Array): void {
    this.wire.encodeControl(opcode, payload, this.out);
    this.writeChunks(this.out);
  }

  private sendPong(data: Uint8Array): void {
    const ch = this.channel;
    if (ch.congested) {
      // Congested: keep only the latest payload (RFC 6455 5.5.3) and answer
      // once the socket drains, so pongs never queue without bound.
      const waiting = this.nextPong !== null;
      this.nextPong = data;
      if (!waiting) {
        ch.drained().then(() => {
          const next = this.nextPong;
          this.nextPong = null;
          if (next && !this.cs?.sent && this.readyState !== CLOSED) this.sendControl(OP_PONG, next);
        }, noop);
      }
      return;
    }
    this.sendControl(OP_PONG, data);
  }

  /** @internal (ChannelSink) The socket's write side ended: null = closed after flushing. */
  onWriteEnd(err: unknown): void {
    const a = this.closing().writeEnd(err);
    const resolve = this.writeDoneResolve;
    this.writeDoneResolve = null;
    resolve?.();
    this.apply(a);
  }

  // ---------------------------------------------------------------- ping

  /** Sends a ping; resolves when a pong with the same payload arrives, rejects on close. */
  ping(data?: Uint8Array): Promise<void> {
    if (this.readyState !== OPEN) {
      return Promise.reject(new DOMException('The WebSocket is not open.', 'InvalidStateError'));
    }
    const payload = pingPayload(data);
    if (payload instanceof RangeError) return Promise.reject(payload);
    const pong = (this.pings ??= new Pings()).wait(payload);
    this.sendControl(OP_PING, payload);
    return pong;
  }

  private onPong(data: Uint8Array): void {
    this.pings?.pong(data);
  }

  // ---------------------------------------------------------------- close

  /** WebSocket readyState: OPEN until the close state says otherwise. */
  get readyState(): ReadyState {
    const cs = this.cs;
    return cs === null ? OPEN : cs.readyState;
  }

  /** The close state, made at the first closing event. */
  private closing(): CloseState {
    return (this.cs ??= new CloseState(this.role));
  }

  /** Starts the closing handshake. `code` null sends a close frame without a code. */
  close(code: number | null, reason: string): void {
    this.apply(this.closing().appClose(code, reason));
  }

  /**
   * @internal Closing triggered by the user's streams: writable close/abort,
   * readable cancel. A WebSocketError reason carries the code and reason to
   * send (as in the WHATWG proposal); anything else closes without a code.
   */
  closeFromStream(reason: unknown, aborted: boolean): void {
    // An abort discards the writes still queued in the writable: they never
    // reach the sink, so don't wait for them (no write is in flight during abort).
    if (aborted) this.writeSeq = this.doneSeq;
    if (reason instanceof WebSocketError && reason.closeCode !== null) this.close(reason.closeCode, reason.reason);
    else this.close(null, '');
  }

  /** Carries out the close state's actions (close-state.ts), in their declared order. */
  private apply(a: number): void {
    if (a === 0) return;
    const cs = this.cs!;
    const ch = this.channel;
    if (a & END_READABLE) this.closeReadable();
    // While closing we read regardless of the user's demand (we must see the peer's close frame).
    if (a & WAKE_READER) this.wakeReader();
    if (a & PAUSE_INPUT) ch.pause();
    if (a & ARM_TIMER) this.closeTimer ??= timers.schedule(this, TIMER_CLOSE, this.opts.closeTimeout);
    if (a & REARM_TIMER) {
      if (this.closeTimer !== null) timers.reschedule(this.closeTimer, this.opts.closeTimeout);
      else this.closeTimer = timers.schedule(this, TIMER_CLOSE, this.opts.closeTimeout);
    }
    if (a & AWAIT_READER) this.failWhenRead();
    // Our close frame goes after every write accepted so far (sequence numbers, see sinkWrite); NOW: after those
    // already started only.
    if (a & (SEND_CLOSE | SEND_CLOSE_NOW)) {
      this.acceptSeq = Math.min(this.acceptSeq, a & SEND_CLOSE_NOW ? this.sinkSeq : this.writeSeq);
      if (a & SEND_CLOSE_NOW || this.doneSeq >= this.acceptSeq) this.sendClose();
    }
    if (a & FAIL_READABLE) this.closeReadable(WebSocketError.internal(cs.error!.message, 1006, '', cs.error));
    // Flush and FIN, and only then stop reading: some adapters (Node's Duplex.toWeb) destroy the whole socket
    // when the readable is cancelled, which would drop unflushed bytes such as our close frame.
    if (a & SHUTDOWN) {
      ch.end().catch(noop);
      void this.whenWriteDone().then(() => ch.cancel());
    }
    if (a & ABORT) ch.abort(cs.cause);
    if (a & FINISH_AFTER_FLUSH) void this.whenWriteDone().then(() => this.apply(cs.flushed()));
    if (a & FINISH) this.finish(cs);
    if (a & STOP_READING) void ch.cancel();
  }

  /** Writes our close frame (code and reason from the close state), when no publish is compressing ahead of it. */
  private sendClose(): void {
    const cs = this.cs!;
    if (!cs.pending || this.encoding !== null) return; // (a publish compressing goes first: encodeOwn)
    this.nextPong = null;
    this.wire.encodeClose(cs.code, cs.reason, this.out);
    this.writeChunks(this.out);
    this.apply(cs.closeSent());
  }

  /**
   * AWAIT_READER: the messages decoded before a protocol error stay the reader's, and what the application
   * writes in answer to them (an echo) goes out before our close frame: once the reader took them (or left), and
   * one more turn for its writes, readerDone() queues the close behind every write accepted by then. The close
   * timer bounds the wait.
   */
  private failWhenRead(): void {
    const cs = this.cs!;
    if (this.failTimer !== null || cs.errorQueued || cs.readyState === CLOSED) return;
    if (!this.readableDone && (this.readCtrl.desiredSize ?? 0) < this.readHwm) return; // onPull() retries
    this.failTimer = timers.schedule(this, TIMER_FAIL, 0);
  }

  private wakeReader(): void {
    const w = this.pullWaiter;
    this.pullWaiter = null;
    w?.();
    if (this.parked) {
      this.parked = false;
      this.channel.resume();
    }
  }

  /** Settles once the socket's write side is closed or failed. */
  private whenWriteDone(): Promise<void> {
    if (this.cs!.writeEnded) return Promise.resolve();
    return (this.writeDone ??= new Promise<void>((resolve) => {
      this.writeDoneResolve = resolve;
    }));
  }

  private closeReadable(err?: unknown): void {
    const m = this.active;
    this.active = null;
    m?.error(err);
    if (this.readableDone) return;
    this.readableDone = true;
    try {
      if (err === undefined) this.readCtrl.close();
      else this.readCtrl.error(err);
    } catch {
      /* already closed/errored */
    }
  }

  /** FINISH: the session ended. Settles everything the application holds, then lets the transport go. */
  private finish(cs: CloseState): void {
    timers.cancel(this.closeTimer);
    timers.cancel(this.keepaliveTimer);
    timers.cancel(this.idleTimer);
    timers.cancel(this.failTimer);
    this.closeTimer = this.keepaliveTimer = this.idleTimer = this.failTimer = null;
    this.wire.dispose(); // frees zlib state, if any was created
    this.nextPong = null;
    this.wakeReader();

    let err: WebSocketError | null = null;
    if (cs.clean) {
      this.closeReadable();
      try {
        this.writeCtrl?.error(new DOMException('The WebSocket is closed.', 'InvalidStateError'));
      } catch {
        /* ignore */
      }
      this.resolveClosed({ closeCode: cs.closeCode, reason: cs.closeReason });
    } else {
      const cause = cs.cause;
      const msg = cause instanceof Error ? cause.message : 'the connection was closed abnormally';
      err = WebSocketError.internal(msg, 1006, '', cause);
      this.closeReadable(err);
      try {
        this.writeCtrl?.error(err);
      } catch {
        /* ignore */
      }
      this.rejectClosed(err);
    }
    this.pings?.rejectAll(err);
    // Make sure nothing keeps reading or writing.
    this.apply(cs.release());
  }

  // ---------------------------------------------------------------- timers

  onTimer(kind: number, now: number): void {
    if (this.readyState === CLOSED) return;
    if (kind === TIMER_FAIL) {
      this.failTimer = null;
      this.apply(this.cs!.readerDone());
    } else if (kind === TIMER_CLOSE) {
      this.closeTimer = null;
      this.apply(this.cs!.timerFired());
    } else if (kind === TIMER_KEEPALIVE) {
      this.keepaliveTick(now);
    } else if (kind === TIMER_IDLE) {
      const idle = this.opts.idleTimeout;
      const since = now - this.lastActivity;
      if (this.readyState !== OPEN) return;
      if (since >= idle) this.close(1001, 'idle timeout');
      else timers.reschedule(this.idleTimer!, idle - since);
    }
  }

  private keepaliveTick(now: number): void {
    const entry = this.keepaliveTimer!;
    if (this.readyState !== OPEN) return;
    const { keepaliveInterval: interval, keepaliveTimeout: timeout } = this.opts;
    // Our own reader being slow stops us reading the socket, so we could not
    // see a pong: that is not a dead peer. Wait for the reader.
    const stalled = this.pullWaiter !== null || this.parked;
    if (this.keepalivePingAt !== 0) {
      if (this.lastReceived >= this.keepalivePingAt || stalled) {
        this.keepalivePingAt = 0;
      } else if (now - this.keepalivePingAt >= timeout) {
        this.apply(this.closing().abnormal(new Error('keepalive timeout: no answer from the peer')));
        return;
      } else {
        timers.reschedule(entry, timeout - (now - this.keepalivePingAt));
        return;
      }
    }
    const since = now - this.lastReceived;
    if (since < interval || stalled) {
      timers.reschedule(entry, stalled ? interval : interval - since);
      return;
    }
    this.keepalivePingAt = now;
    this.sendControl(OP_PING, new Uint8Array(0));
    timers.reschedule(entry, timeout);
  }
}

/** The user readable's underlying source. */
class Source implements UnderlyingDefaultSource<ReceiveData | StreamedMessage> {
  constructor(private readonly c: Connection) {}
  start(ctrl: ReadableStreamDefaultController<ReceiveData | StreamedMessage>): void {
    this.c.onReadableStart(ctrl);
  }
  pull(): void {
    this.c.onReadablePull();
  }
  cancel(reason: unknown): void {
    this.c.onCancel(reason);
  }
}

/** The user writable's underlying sink. */
class Sink implements UnderlyingSink<SendData> {
  constructor(private readonly c: Connection) {}
  start(ctrl: WritableStreamDefaultController): void {
    this.c.writeCtrl = ctrl;
    // Made after the session ended (the writable is made when first asked for): nothing can be written.
    if (this.c.readyState === CLOSED) ctrl.error(new DOMException('The WebSocket is closed.', 'InvalidStateError'));
  }
  write(chunk: SendData): Promise<void> {
    return this.c.sinkWrite(chunk);
  }
  close(): void {
    this.c.closeFromStream(undefined, false);
  }
  abort(reason: unknown): void {
    this.c.closeFromStream(reason, true);
  }
}
