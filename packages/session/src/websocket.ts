/**
 * The WHATWG `WebSocket` interface on top of a WebSocketStream session, so code
 * written for a browser runs unchanged over any adapter:
 *
 *   const WebSocket = createWebSocketClass(dial);   // dial: (url, opts) => Promise<{readable, writable}>
 *   const ws = new WebSocket('ws://host/path', ['chat']);
 *
 * and, server side, `wrapWebSocket(accept(conn, options))`.
 *
 * Like a browser's, this class does not apply backpressure to incoming
 * messages (each is dispatched as soon as it is decoded) and `send()` queues
 * without bound, reported by `bufferedAmount`. Use the WebSocketStream API
 * when flow control matters.
 *
 * The class uses no streams: the session's core (a Connection over our codec,
 * or a PlatformConnection over a runtime's own WebSocket) hands it each message
 * synchronously as it is decoded or delivered (listen(), inbox.ts) and the
 * `message` event is dispatched there and then; send() frames the message at
 * once when nothing is queued (Connection.sendNow) and otherwise queues it in
 * the core (write()). The session's readable and writable are then never made.
 * Over a session whose readable was already taken, the class reads the
 * readable and writes the writable.
 */
import { CloseEvent, ErrorEvent, MessageEvent, type WebSocketEventMap } from './events.js';
import { validateCloseArgs, utf8Length } from './close-args.js';
import { WebSocketError } from './errors.js';
import { HandshakeGuard } from './guard.js';
import { resolveOptions } from './options.js';
import type { ByteChannel, ByteDuplex } from './channel.js';
import { prepareRequest, type ConnectOptions } from './client-handshake.js';
import { startClient, WebSocketStream } from './websocket-stream.js';
import type { SessionCore } from './platform.js';
import { Connection, type ReceiveData, type SendData } from './connection.js';
import { deliverMessage, type MessageListener } from './inbox.js';
import { takeOwnedBuffer } from '@streamsocket/codec';

export type BinaryType = 'blob' | 'arraybuffer';

/** Options a dialer receives: the protocols asked for, and a signal that aborts the connect. */
export interface DialOptions {
  protocols: string[];
  signal: AbortSignal;
}

/**
 * Opens the byte connection for a URL (TCP or TLS by `url.protocol`). May also
 * return a ready WebSocketStream (for adapters with their own handshake).
 */
export type Dialer = (url: URL, opts: DialOptions) => Promise<ByteDuplex | ByteChannel | WebSocketStream> | ByteDuplex | ByteChannel | WebSocketStream;

type Handler = ((this: WebSocket, ev: Event) => unknown) | null;
/** An `on<type>` handler: called with the event of that name, typed by WebSocketEventMap. */
export type WebSocketEventHandler<K extends keyof WebSocketEventMap> = ((this: WebSocket, ev: WebSocketEventMap[K]) => unknown) | null;
/** addEventListener's options (the DOM's AddEventListenerOptions, restated: @types/node alone lacks the name). */
export type WebSocketListenerOptions = boolean | { capture?: boolean; once?: boolean; passive?: boolean; signal?: AbortSignal };
/** Any listener, for event names outside WebSocketEventMap. */
export type AnyEventListener = ((ev: Event) => unknown) | { handleEvent(ev: Event): unknown };
/** A listener for `addEventListener(type, ...)`: a function or an object with handleEvent(), typed per event name. */
export type WebSocketEventListener<K extends keyof WebSocketEventMap> =
  | ((this: WebSocket, ev: WebSocketEventMap[K]) => unknown)
  | { handleEvent(ev: WebSocketEventMap[K]): unknown };

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const noop = (): void => {};

/**
 * An ArrayBuffer of its own holding exactly the bytes of a received message: the decoder's buffer when it was
 * allocated for this message alone (a message that spanned socket chunks), else a copy. A view of a socket chunk
 * is always copied, even when it spans the chunk's whole buffer: that buffer is the transport's (over an in-memory
 * pipe, the sender's own, which it may send again).
 */
function toArrayBuffer(u8: Uint8Array): ArrayBuffer {
  const own = takeOwnedBuffer(u8);
  if (own !== null) return own;
  // The buffer first, then a view to copy through: `slice().buffer` makes a typed array and then asks it for its
  // buffer, which JavaScriptCore materializes at a cost (365 against 240 ns for 16 bytes in Bun; cheaper in Node and
  // Deno too: bench/e2e/README.md, "The event API against the stream API").
  const copy = new ArrayBuffer(u8.byteLength);
  new Uint8Array(copy).set(u8);
  return copy;
}

function isSession(x: unknown): x is WebSocketStream {
  return x instanceof WebSocketStream;
}

/** Reports an exception a listener threw without unwinding the caller (the decoder), as an event listener's is. */
function report(e: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(e);
  else
    queueMicrotask(() => {
      throw e;
    });
}

export class WebSocket extends EventTarget implements MessageListener {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** The underlying session (WebSocketStream API): for ping(), request headers, etc. */
  readonly session: WebSocketStream;
  private state = CONNECTING;
  private binary: BinaryType = 'blob';
  /** The writable's writer, over a core the class cannot listen to (a platform's WebSocket). */
  private writer: WritableStreamDefaultWriter<SendData> | null = null;
  /** The session's codec connection, when it is one: send() frames through it at once when it can (sendNow). */
  private direct: Connection | null = null;
  /** The session's core once this listens to it: its messages come to [deliverMessage], queued sends go to its write(). */
  private core: SessionCore | null = null;
  /** Bytes queued behind other writes (Connection.write or the writable), until the encoder took them. */
  private inFlight = 0;
  /** Bytes written directly, counted in bufferedAmount until the end of the task (or the socket's drain). */
  private sentNow = 0;
  private settling = false;
  private discarded = 0;
  /** close() was called while CONNECTING: the end is reported as a failure whatever happens. */
  private failed = false;
  /** The on<type> attributes' handlers, made at the first assignment. */
  private handlers: EventHandlers | null = null;

  /**
   * Wraps a session (e.g. from accept()). Browser-style `new WebSocket(url)`
   * needs a dialer: see createWebSocketClass().
   */
  constructor(session: WebSocketStream) {
    super();
    if (!isSession(session)) {
      throw new TypeError('Use createWebSocketClass(dial) for a WebSocket constructor that takes a URL');
    }
    this.session = session;
    session.opened.then(
      (info) => this.onOpen(info),
      (e: unknown) => this.onFailed(e),
    );
  }

  get url(): string {
    return this.session.url;
  }
  get readyState(): number {
    if (this.state === OPEN && this.session.readyState >= CLOSING) return CLOSING;
    return this.state;
  }
  get protocol(): string {
    return this.session.protocol;
  }
  get extensions(): string {
    return this.session.extensions;
  }
  /** Bytes passed to send() not yet handed to the encoder, plus those discarded after closing (per spec). */
  get bufferedAmount(): number {
    return this.inFlight + this.sentNow + this.discarded;
  }
  get binaryType(): BinaryType {
    return this.binary;
  }
  set binaryType(v: BinaryType) {
    // WebIDL enum attribute: invalid values are ignored.
    if (v === 'blob' || v === 'arraybuffer') this.binary = v;
  }

  /**
   * The bytes are taken as they are when send() is called (later changes to the caller's buffer are not sent),
   * with one copy: when nothing is queued ahead, the message is framed at once and the frame is the copy (a
   * client's masked frame; see Connection.sendNow); otherwise a snapshot waits in the writable.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.state === CONNECTING) throw new DOMException('Still in CONNECTING state.', 'InvalidStateError');
    let bytes: string | Uint8Array;
    if (typeof data === 'string') bytes = data;
    else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    // A plain Uint8Array is taken as it is: re-viewing it reads `.buffer`, which JavaScriptCore (Bun) pays for with
    // an ArrayBuffer allocation per small array. Other views (Node's Buffer included: its slice() is a view) are
    // re-viewed as a plain Uint8Array, whose slice() copies.
    else if (ArrayBuffer.isView(data)) bytes = data.constructor === Uint8Array ? (data as Uint8Array) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else if (typeof Blob !== 'undefined' && data instanceof Blob) return this.queue(data, data.size); // immutable
    else bytes = String(data); // WebIDL union: anything else converts to a string
    if (this.readyState !== OPEN || (this.core === null && this.writer === null)) {
      // Spec: after closing started, data is discarded but still counted.
      this.discarded += typeof bytes === 'string' ? utf8Length(bytes) : bytes.byteLength;
      return;
    }
    if (this.direct !== null) {
      const n = this.direct.sendNow(bytes);
      if (n >= 0) {
        this.sentNow += n;
        if (!this.settling) {
          this.settling = true;
          if (toSettle.push(this) === 1) queueMicrotask(WebSocket.settleAll);
        }
        return;
      }
    }
    // The caller may reuse its buffer: what waits in the writable is a snapshot.
    if (typeof bytes === 'string') this.queue(bytes, utf8Length(bytes));
    else this.queue(bytes.slice(), bytes.byteLength);
  }

  /** Queues a message behind the ones waiting, or counts and discards it once closing started (per spec). */
  private queue(chunk: string | Uint8Array | Blob, size: number): void {
    const core = this.core;
    if (this.readyState !== OPEN || (core === null && this.writer === null)) {
      this.discarded += size;
      return;
    }
    this.inFlight += size;
    (this.writer !== null ? this.writer.write(chunk) : core!.write(chunk)).then(() => {
      this.inFlight -= size;
    }, noop);
  }

  /**
   * Bytes sent directly leave bufferedAmount at the end of the task that sent them, or once the socket drained
   * when they filled it (as writes through the writable do).
   */
  private settle(): void {
    const conn = this.direct;
    // drained() also resolves when the transport ends (no direct send happens while congested: see sendNow).
    if (conn !== null && conn.sendCongested) conn.drained().then(() => this.settled(), noop);
    else this.settled();
  }

  private settled(): void {
    this.sentNow = 0;
    this.settling = false;
  }

  /** One microtask settles every WebSocket that sent directly in this task (no function per instance). */
  private static settleAll(): void {
    const list = toSettle.splice(0);
    for (const ws of list) ws.settle();
  }

  close(code?: number, reason?: string): void {
    const args = validateCloseArgs(code, reason);
    if (this.state === CLOSING || this.state === CLOSED) return;
    if (this.state === CONNECTING) {
      // "Fail the WebSocket connection": error + close(1006) follow, never open.
      this.state = CLOSING;
      this.failed = true;
      this.session.close(); // aborts the handshake (or, if it just completed, closes at once)
      return;
    }
    if (this.session.readyState >= CLOSING) return;
    this.state = CLOSING;
    const info: { closeCode?: number; reason?: string } = {};
    if (args.code !== null) {
      info.closeCode = args.code;
      info.reason = args.reason;
    }
    this.session.close(info);
  }

  /** Sends a ping; resolves on the matching pong (an extension of the browser API). */
  ping(data?: Uint8Array): Promise<void> {
    return this.session.ping(data);
  }

  /** Who frames the messages: 'streamsocket' (our codec) or 'platform' (the runtime's own WebSocket). */
  get engine(): string {
    return this.session.engine;
  }

  /** Server side: receive what is published to `topic` (see the session's `subscribe`). */
  subscribe(topic: string): void {
    this.session.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.session.unsubscribe(topic);
  }

  // ---- event handler attributes

  get onopen(): WebSocketEventHandler<'open'> {
    return this.getHandler('open') as WebSocketEventHandler<'open'>;
  }
  set onopen(h: WebSocketEventHandler<'open'>) {
    this.setHandler('open', h as Handler);
  }
  get onmessage(): WebSocketEventHandler<'message'> {
    return this.getHandler('message') as WebSocketEventHandler<'message'>;
  }
  set onmessage(h: WebSocketEventHandler<'message'>) {
    this.setHandler('message', h as Handler);
  }
  get onerror(): WebSocketEventHandler<'error'> {
    return this.getHandler('error') as WebSocketEventHandler<'error'>;
  }
  set onerror(h: WebSocketEventHandler<'error'>) {
    this.setHandler('error', h as Handler);
  }
  get onclose(): WebSocketEventHandler<'close'> {
    return this.getHandler('close') as WebSocketEventHandler<'close'>;
  }
  set onclose(h: WebSocketEventHandler<'close'>) {
    this.setHandler('close', h as Handler);
  }

  // ---- typed listeners (the same EventTarget methods, with each event name's event type)

  override addEventListener<K extends keyof WebSocketEventMap>(type: K, listener: WebSocketEventListener<K> | null, options?: WebSocketListenerOptions): void;
  override addEventListener(type: string, listener: AnyEventListener | null, options?: WebSocketListenerOptions): void;
  override addEventListener(type: string, listener: unknown, options?: WebSocketListenerOptions): void {
    super.addEventListener(type, listener as Parameters<EventTarget['addEventListener']>[1], options);
  }

  override removeEventListener<K extends keyof WebSocketEventMap>(type: K, listener: WebSocketEventListener<K> | null, options?: boolean | { capture?: boolean }): void;
  override removeEventListener(type: string, listener: AnyEventListener | null, options?: boolean | { capture?: boolean }): void;
  override removeEventListener(type: string, listener: unknown, options?: boolean | { capture?: boolean }): void {
    super.removeEventListener(type, listener as Parameters<EventTarget['removeEventListener']>[1], options);
  }

  private getHandler(type: string): Handler {
    return this.handlers?.byType[type] ?? null;
  }

  private setHandler(type: string, h: Handler): void {
    const value = typeof h === 'function' || (typeof h === 'object' && h !== null) ? h : null;
    const handlers = (this.handlers ??= new EventHandlers(this));
    // Registered once per type, at the first assignment (HTML's event handler ordering).
    if (!(type in handlers.byType)) this.addEventListener(type, handlers);
    handlers.byType[type] = value;
  }

  // ---- lifecycle

  private onOpen(info: { readonly readable: ReadableStream<ReceiveData>; readonly writable: WritableStream<SendData> }): void {
    const core = this.session.core;
    this.direct = core instanceof Connection ? core : null;
    // The messages come from the core as they are decoded (or as the platform delivers them), from just after the
    // open event (the ones that came before it first), and queued sends go to its write(): no stream is made.
    // Otherwise (a session whose readable was taken) the readable and the writable are the way in and out.
    const listen = core !== null && core.listenable;
    if (listen) this.core = core; // before the open event: its listeners may send
    else {
      this.writer = info.writable.getWriter();
      this.writer.closed.catch(noop);
    }
    if (this.state === CONNECTING) {
      this.state = OPEN;
      this.dispatchEvent(new Event('open'));
    }
    if (listen) {
      core.listen(this);
      this.watchClosed();
    } else void this.readLoop(info.readable.getReader());
  }

  /** @internal (MessageListener) A message, dispatched as it is decoded; a throwing listener is reported, not rethrown. */
  [deliverMessage](m: ReceiveData): void {
    let data: unknown;
    if (typeof m === 'string') data = m;
    else if (this.binary === 'arraybuffer') data = toArrayBuffer(m);
    else data = new Blob([m as Uint8Array<ArrayBuffer>]);
    try {
      this.dispatchEvent(new MessageEvent('message', { data, origin: originOf(this.session.url) }));
    } catch (e) {
      report(e); // EventTarget reports a listener's exception itself; this guards the decoder against one that does not
    }
  }

  private async readLoop(reader: ReadableStreamDefaultReader<ReceiveData>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this[deliverMessage](value);
      }
    } catch {
      /* the readable errored: the close outcome below says why */
    }
    this.watchClosed();
  }

  /** The close and error events follow the session's outcome (after every message: see onOpen and readLoop). */
  private watchClosed(): void {
    this.session.closed.then(
      (info) => this.onClosed(true, info.closeCode, info.reason),
      (e: unknown) => this.onClosed(false, e instanceof WebSocketError && e.closeCode !== null ? e.closeCode : 1006, '', e),
    );
  }

  private onFailed(error: unknown): void {
    this.onClosed(false, 1006, '', error);
  }

  private onClosed(clean: boolean, code: number, reason: string, error?: unknown): void {
    if (this.state === CLOSED) return;
    if (this.failed) {
      clean = false;
      code = 1006;
      reason = '';
    }
    this.state = CLOSED;
    this.writer = null;
    this.direct = null;
    this.core = null;
    if (!clean) {
      const message = error instanceof Error ? error.message : error === undefined ? 'the WebSocket connection failed' : String(error);
      this.dispatchEvent(new ErrorEvent('error', { message, error }));
    }
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean: clean }));
  }
}

/** WebSockets whose directly sent bytes leave bufferedAmount at the end of this task (see settle()). */
const toSettle: WebSocket[] = [];

/** The listener behind the on<type> attributes: calls the handler set for the event's type, if it is a function. */
class EventHandlers {
  readonly byType: Record<string, Handler> = Object.create(null) as Record<string, Handler>;
  constructor(private readonly ws: WebSocket) {}
  handleEvent(e: Event): void {
    const fn = this.byType[e.type];
    if (typeof fn === 'function') fn.call(this.ws, e);
  }
}

for (const [name, value] of [
  ['CONNECTING', 0],
  ['OPEN', 1],
  ['CLOSING', 2],
  ['CLOSED', 3],
] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

/** The last URL's origin: a server's sessions mostly share one, so each message does not parse its URL again. */
let lastUrl = '';
let lastOrigin = '';

function originOf(url: string): string {
  if (url === lastUrl) return lastOrigin;
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    origin = '';
  }
  lastUrl = url;
  lastOrigin = origin;
  return origin;
}

/** Wraps a session (server side: the result of accept()) as a WebSocket object. */
export function wrapWebSocket(session: WebSocketStream): WebSocket {
  return new WebSocket(session);
}

export interface WebSocketConstructor {
  new (url: string | URL, protocols?: string | string[]): WebSocket;
  readonly prototype: WebSocket;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
}

/**
 * A browser-compatible WebSocket constructor bound to a dialer. `options`
 * (limits, timeouts, deflate, headers, origin ...) apply to every instance.
 */
export function createWebSocketClass(dial: Dialer, options: Omit<ConnectOptions, 'protocols' | 'signal'> = {}): WebSocketConstructor {
  const o = resolveOptions({ ...options, streamMessages: false }); // MessageEvent carries whole messages
  class BoundWebSocket extends WebSocket {
    constructor(url: string | URL, protocols: string | string[] = []) {
      const list = typeof protocols === 'string' ? [protocols] : Array.from(protocols, String);
      // Throws SyntaxError synchronously for a bad URL or protocol list, like a browser.
      const req = prepareRequest(url, o, { ...options, protocols: list });
      super(startWithDialer(dial, req, o, list, () => prepareRequest(url, o, { ...options, protocols: list })));
    }
  }
  return BoundWebSocket as unknown as WebSocketConstructor;
}

function startWithDialer(
  dial: Dialer,
  req: ReturnType<typeof prepareRequest>,
  o: ReturnType<typeof resolveOptions>,
  protocols: string[],
  rebuild: () => ReturnType<typeof prepareRequest>,
  signal?: AbortSignal,
): WebSocketStream {
  const guard = new HandshakeGuard(o.handshakeTimeout, signal, 0);
  const controller = new AbortController();
  guard.controller = controller;
  let dialed: ReturnType<Dialer>;
  try {
    dialed = dial(req.url, { protocols, signal: controller.signal });
  } catch (e) {
    dialed = Promise.reject(e);
  }
  // An adapter that runs the handshake itself hands back a session directly.
  if (isSession(dialed)) {
    guard.dispose();
    return dialed;
  }
  const conn = Promise.resolve(dialed).then((d): ByteDuplex | ByteChannel => {
    if (isSession(d)) throw new TypeError('a dialer must return a WebSocketStream synchronously, or a promise of a byte duplex');
    return d;
  });
  return startClient(conn, req, o, guard, rebuild);
}

/** Options of a dialer-bound WebSocketStream constructor (WHATWG proposal's WebSocketStreamOptions). */
export interface WebSocketStreamOptions {
  protocols?: string[];
  signal?: AbortSignal;
}

export interface WebSocketStreamConstructor {
  new (url: string | URL, options?: WebSocketStreamOptions): WebSocketStream;
  readonly prototype: WebSocketStream;
}

/**
 * A `WebSocketStream` constructor bound to a dialer, with the WHATWG proposal's
 * shape: `new WebSocketStream(url, { protocols, signal })`. Instances are
 * WebSocketStream objects (`instanceof` both). `options` apply to every one.
 */
export function createWebSocketStreamClass(dial: Dialer, options: Omit<ConnectOptions, 'protocols' | 'signal'> = {}): WebSocketStreamConstructor {
  // The WHATWG shape yields whole messages; streamed messages are connect()'s (its type follows the option).
  const o = resolveOptions({ ...options, streamMessages: false });
  function BoundWebSocketStream(this: unknown, url: string | URL, init: WebSocketStreamOptions = {}): WebSocketStream {
    if (new.target === undefined) throw new TypeError("Failed to construct 'WebSocketStream': use 'new'");
    const list = Array.from(init.protocols ?? [], String);
    const connectOpts = { ...options, protocols: list };
    // Throws SyntaxError synchronously for a bad URL or protocol list.
    const req = prepareRequest(url, o, connectOpts);
    // Returning an object from a constructor makes it the result of `new`.
    return startWithDialer(dial, req, o, list, () => prepareRequest(url, o, connectOpts), init.signal);
  }
  BoundWebSocketStream.prototype = WebSocketStream.prototype;
  return BoundWebSocketStream as unknown as WebSocketStreamConstructor;
}
