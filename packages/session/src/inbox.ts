/**
 * Where a Connection puts the messages it decodes before anyone took them, and how the WebSocket class takes them
 * without a ReadableStream.
 *
 * A Connection makes its readable only when asked for it (WebSocketStream's `opened` hands it out lazily). Until
 * then, decoded messages wait in an Inbox, which answers the readable controller's questions the Connection asks
 * (desiredSize, so the channel is paused at the same high-water mark as the readable's) and is replayed into the
 * readable when that is made. A listener (the WebSocket class) may attach instead: it gets the held messages at
 * once, then every message synchronously as it is decoded, with no backpressure (a browser's WebSocket applies
 * none either), so the Connection never makes a readable for it.
 */
import type { ReceiveData, SendData } from './connection.js';
import type { StreamedMessage } from './message-stream.js';

/** The name of a MessageListener's method: a symbol, so it adds no string-named member to the WebSocket class. */
export const deliverMessage: unique symbol = Symbol('deliverMessage');

/** Receives each whole message as soon as it is decoded. Must not throw (the decoder is on the stack). */
export interface MessageListener {
  [deliverMessage](data: ReceiveData): void;
}

/** What a Connection asks of its readable's controller: the real one, or an Inbox standing in for it. */
export interface MessageQueue {
  readonly desiredSize: number | null;
  enqueue(m: ReceiveData | StreamedMessage): void;
  close(): void;
  error(e: unknown): void;
}

/** Size of a readable chunk in the readable's strategy: bytes, UTF-16 units, or 1 for a StreamedMessage. */
export function receivedSize(chunk: ReceiveData | StreamedMessage): number {
  if (typeof chunk === 'string') return chunk.length;
  return chunk instanceof Uint8Array ? chunk.byteLength : 1; // a StreamedMessage counts one (high-water mark 1)
}

const ENDED_CLEAN = Symbol('closed');

export class Inbox implements MessageQueue {
  /** Set once a listener took over: every message goes to it. */
  listener: MessageListener | null = null;
  private held: Array<ReceiveData | StreamedMessage> | null = null;
  private heldSize = 0;
  /** close() or error(e) happened while held: replayed after the messages. */
  private end: unknown = undefined;

  constructor(private readonly hwm: number) {}

  /** With a listener there is always room: it takes each message as it comes. */
  get desiredSize(): number {
    return this.listener !== null ? Infinity : this.hwm - this.heldSize;
  }

  enqueue(m: ReceiveData | StreamedMessage): void {
    const l = this.listener;
    if (l !== null) return l[deliverMessage](m as ReceiveData);
    (this.held ??= []).push(m);
    this.heldSize += receivedSize(m);
  }

  close(): void {
    if (this.listener === null && this.end === undefined) this.end = ENDED_CLEAN;
  }

  error(e: unknown): void {
    if (this.listener === null && this.end === undefined) this.end = { error: e };
  }

  /** Hands the held messages to `l`, which takes every later one. */
  attach(l: MessageListener): void {
    this.listener = l;
    const held = this.held;
    this.held = null;
    this.heldSize = 0;
    this.end = undefined;
    if (held !== null) for (const m of held) l[deliverMessage](m as ReceiveData);
  }

  /**
   * A listener may take over from this queue: it is still the Inbox (no readable took it over), messages are whole,
   * and no listener is there yet.
   */
  static canListen(q: MessageQueue, streamMessages: boolean): q is Inbox {
    return q instanceof Inbox && q.listener === null && !streamMessages;
  }

  /** True once a listener took the messages from `q`. */
  static listening(q: MessageQueue): boolean {
    return q instanceof Inbox && q.listener !== null;
  }

  /** Moves the held messages, and the end if it came, into the readable just made. */
  replay(ctrl: ReadableStreamDefaultController<ReceiveData | StreamedMessage>): void {
    const held = this.held;
    this.held = null;
    this.heldSize = 0;
    if (held !== null) for (const m of held) ctrl.enqueue(m);
    const end = this.end;
    if (end === ENDED_CLEAN) ctrl.close();
    else if (end !== undefined) ctrl.error((end as { error: unknown }).error);
  }
}

/**
 * One write at a time through a core's sink, in the order accepted: what a WritableStream's queue does for its
 * sink, for a sender without a writable (the WebSocket class: Connection.write, PlatformConnection.write). Made at a
 * core's first such write.
 */
export class SerialWrites {
  private queue: Array<{ chunk: SendData; resolve: () => void; reject: (e: unknown) => void }> | null = null;
  private writing = false;

  constructor(private readonly sink: (chunk: SendData) => void | Promise<void>) {}

  /** Settles as the sink's write of `chunk` does, once the writes accepted before it are done. */
  push(chunk: SendData): Promise<void> {
    if (this.writing) return new Promise<void>((resolve, reject) => (this.queue ??= []).push({ chunk, resolve, reject }));
    return this.run(chunk);
  }

  private run(chunk: SendData): Promise<void> {
    this.writing = true;
    let p: Promise<void>;
    try {
      p = Promise.resolve(this.sink(chunk));
    } catch (e) {
      p = Promise.reject(e);
    }
    const next = (): void => this.next();
    p.then(next, next);
    return p;
  }

  private next(): void {
    this.writing = false;
    const q = this.queue;
    if (q === null) return;
    const w = q.shift()!;
    if (q.length === 0) this.queue = null;
    this.run(w.chunk).then(w.resolve, w.reject);
  }
}
