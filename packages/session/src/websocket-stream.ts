/**
 * The WebSocketStream-shaped session object (WHATWG proposal / Chromium):
 * `opened` resolves to `{ readable, writable, protocol, extensions }`,
 * `closed` to `{ closeCode, reason }`, `close({ closeCode, reason })`.
 * `accept()` (server role) and `connect()` (client role) create one over any
 * byte duplex.
 *
 * Promise semantics (consistent everywhere):
 * - `opened` rejects if the handshake fails: HandshakeError (refusal status,
 *   validation failure, timeout), the AbortSignal's reason, or a WebSocketError
 *   if close() was called while connecting.
 * - `closed` resolves only after a clean close (close frames exchanged); every
 *   other end (failed handshake, abrupt disconnect, protocol error, close or
 *   keepalive timeout) rejects it with a WebSocketError whose closeCode is 1006
 *   and whose `cause` is the underlying error (e.g. the CodecError whose
 *   closeCode we sent).
 * - Both promises are marked handled internally: ignoring them never produces
 *   an unhandled rejection.
 */
import { HandshakeError, displayUrl, type RequestHead, type ResponseHead } from '@streamsocket/handshake';
import { Connection, CONNECTING, CLOSED, type CloseInfo, type ReadyState, type ReceiveData, type SendData } from './connection.js';
import { WebSocketError, type WebSocketCloseInfo } from './errors.js';
import { validateCloseArgs } from './close-args.js';
import { HandshakeGuard } from './guard.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { toChannel, type ByteChannel, type ByteDuplex } from './channel.js';
import { serverHandshake, abortConn, type AcceptOptions } from './server-handshake.js';
import { clientHandshake, prepareRequest, type ConnectOptions } from './client-handshake.js';
import { deflateAvailable, loadZlib, isValidCloseCode, type DeflateAgreement } from '@streamsocket/codec';
import type { ClosedHandle, SessionCore } from './platform.js';
import type { MessageOf, StreamedMessage } from './message-stream.js';

/**
 * Who reads and writes a session's frames: `'streamsocket'` when our codec runs on a byte stream we own (every
 * `serve()`, `accept()`, `connect()`, Node's `upgrade()`), `'platform'` when the runtime's own WebSocket does
 * (Deno.upgradeWebSocket, Bun.serve, workerd's WebSocketPair) and the session presents it (see platform.ts).
 */
export type SessionEngine = 'streamsocket' | 'platform';

/** What `opened` resolves to. `R`: what the readable yields (whole messages, or with `streamMessages` streams). */
export interface WebSocketOpenInfo<R = ReceiveData> {
  readable: ReadableStream<R>;
  writable: WritableStream<SendData>;
  protocol: string;
  extensions: string;
}

/**
 * `opened`'s value. `readable` and `writable` are the core's, asked for when first read: a Connection makes its
 * streams only then, so a session whose messages a listener takes (the WebSocket class) has none. They are own
 * enumerable properties, in the order of a plain `{ readable, writable, protocol, extensions }`.
 */
class OpenInfo<R> implements WebSocketOpenInfo<R> {
  readonly #core: SessionCore;
  declare readonly readable: ReadableStream<R>;
  declare readonly writable: WritableStream<SendData>;
  declare readonly protocol: string;
  declare readonly extensions: string;

  constructor(core: SessionCore, protocol: string, extensions: string) {
    this.#core = core;
    Object.defineProperties(this, OpenInfo.streams);
    this.protocol = protocol;
    this.extensions = extensions;
  }

  /** Shared by every instance: accessors that read the core's streams. */
  private static readonly streams: PropertyDescriptorMap = {
    // The readable yields what the options chose (Connection/PlatformConnection: streamMessages); R says so.
    readable: { get(this: OpenInfo<unknown>) { return this.#core.readable; }, enumerable: true, configurable: true },
    writable: { get(this: OpenInfo<unknown>) { return this.#core.writable; }, enumerable: true, configurable: true },
  };
}

/** What a handshake hands over to build the session. */
export interface SessionStart {
  role: 'client' | 'server';
  /** The transport (absent for a platform-owned WebSocket, whose `core` replaces it). */
  conn?: ByteChannel;
  rest: Uint8Array;
  deflate: DeflateAgreement | null;
  protocol: string;
  extensions: string;
  url?: string;
  request?: RequestHead;
  response?: ResponseHead;
  /** A platform-owned WebSocket: builds the session's core instead of a Connection over `conn`. */
  core?: (closed: ClosedHandle) => SessionCore;
}

const noop = (): void => {};

/** Resolved options of frozen option objects (see resolveShared). */
const resolvedByOptions = new WeakMap<object, ResolvedOptions>();

/**
 * resolveOptions(), once per options object when that object is frozen: a server that passes the same frozen
 * options to every accept() (as @streamsocket/node's serve() does) then shares one ResolvedOptions among all its
 * connections instead of keeping a copy per connection. Unfrozen options are resolved each time, since the
 * caller may change them between calls.
 */
export function resolveShared(options: AcceptOptions): ResolvedOptions {
  if (!Object.isFrozen(options)) return resolveOptions(options);
  let o = resolvedByOptions.get(options);
  if (o === undefined) {
    o = Object.freeze(resolveOptions(options));
    resolvedByOptions.set(options, o);
  }
  return o;
}

function isThenable<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown }).then === 'function';
}

/** What a session needs of the topic registry it belongs to (implemented by Topics, topics.ts). */
export interface TopicRegistry {
  subscribe(ws: WebSocketStream<unknown>, topic: string): void;
  unsubscribe(ws: WebSocketStream<unknown>, topic: string): void;
  subscriptionsOf(ws: WebSocketStream<unknown>): string[];
  isSubscribed(ws: WebSocketStream<unknown>, topic: string): boolean;
}

/**
 * `R` is what the readable yields: `string | Uint8Array` (whole messages), or {@link StreamedMessage} for a session
 * made with `streamMessages: true` (accept() and connect() infer it from their options).
 */
export class WebSocketStream<R = ReceiveData> {
  /** ws:/wss: URL: the one connected to (client), or rebuilt from Host + request target (server). */
  url: string;
  readonly opened: Promise<WebSocketOpenInfo<R>>;
  readonly closed: Promise<CloseInfo>;
  /** Server role: the request head, once read. */
  request: RequestHead | null = null;
  /** Client role: the 101 response head. */
  response: ResponseHead | null = null;

  /** Who frames this session's messages: our codec, or the platform's own WebSocket (see SessionEngine). */
  readonly engine: SessionEngine;
  /** @internal The negotiated permessage-deflate parameters (codec engine only), for topics' shared framing. */
  deflateAgreement: DeflateAgreement | null = null;
  /** @internal Server-side topic registry this session belongs to (set by the server or route that made it). */
  topics: TopicRegistry | null = null;

  private conn: SessionCore | null = null;
  private guard: HandshakeGuard | null;
  private failed = false;
  private protocolValue = '';
  private extensionsValue = '';

  /** @internal Use accept() / connect() / createWebSocketStreamClass(). */
  constructor(url: string, guard: HandshakeGuard, options: ResolvedOptions, run: () => Promise<SessionStart>, engine: SessionEngine = 'streamsocket') {
    if (!(guard instanceof HandshakeGuard) || typeof run !== 'function') {
      // `new WebSocketStream(url, options)` on this runtime-free class: it has no way to open a connection.
      throw new TypeError(
        "This WebSocketStream class cannot dial: import WebSocketStream from 'streamsocket' (or @streamsocket/node, /deno, /bun), " +
          'or bind one to a dialer with createWebSocketStreamClass(dial)',
      );
    }
    this.url = url;
    this.engine = engine;
    this.guard = guard;
    let resolveClosed!: (v: CloseInfo) => void;
    let rejectClosed!: (e: unknown) => void;
    this.closed = new Promise<CloseInfo>((res, rej) => {
      resolveClosed = res;
      rejectClosed = rej;
    });
    this.closed.catch(noop);
    this.opened = run().then(
      (s) => {
        guard.dispose();
        this.guard = null;
        if (s.url !== undefined) this.url = s.url;
        this.request = s.request ?? null;
        this.response = s.response ?? null;
        this.protocolValue = s.protocol;
        this.extensionsValue = s.extensions;
        const closed = { promise: this.closed, resolve: resolveClosed, reject: rejectClosed };
        const conn = s.core ? s.core(closed) : new Connection({ role: s.role, conn: s.conn!, rest: s.rest, options, deflate: s.deflate, closed });
        this.conn = conn;
        this.deflateAgreement = s.deflate;
        return new OpenInfo<R>(conn, s.protocol, s.extensions);
      },
      (e: unknown) => {
        guard.dispose();
        this.guard = null;
        this.failed = true;
        const msg = e instanceof Error ? e.message : 'the opening handshake failed';
        rejectClosed(WebSocketError.internal(msg, 1006, '', e));
        throw e;
      },
    );
    this.opened.catch(noop);
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  get readyState(): ReadyState {
    if (this.conn) return this.conn.readyState;
    return this.failed ? CLOSED : CONNECTING;
  }

  /** Selected subprotocol ('' before open or if none). */
  get protocol(): string {
    return this.protocolValue;
  }

  /** Negotiated Sec-WebSocket-Extensions value ('' before open or if none). */
  get extensions(): string {
    return this.extensionsValue;
  }

  /** Bytes accepted by the writable but not yet handed to the encoder. */
  get bufferedAmount(): number {
    return this.conn?.bufferedAmount ?? 0;
  }

  /**
   * Starts the closing handshake (after every message already written), or
   * aborts the opening handshake if still connecting. Throws InvalidAccessError
   * / SyntaxError for a code other than 1000 or 3000-4999 / a reason over 123
   * UTF-8 bytes. No code: the close frame carries none (the peer sees 1005).
   */
  close(info: WebSocketCloseInfo = {}): void {
    const { code, reason } = validateCloseArgs(info.closeCode, info.reason);
    if (this.guard) {
      this.guard.trip(new WebSocketError('The WebSocket was closed before the connection was established.'));
      return;
    }
    this.conn?.close(code, reason);
  }

  /**
   * Closes with any code that is valid on the wire (RFC 6455 7.4: 1000-1003,
   * 1007-1014, 3000-4999), bypassing the WHATWG restriction of close() to 1000
   * and 3000-4999: for servers and adapters (1001 Going Away at shutdown, 1008
   * Policy Violation, 1011 Internal Error ...). RangeError for other codes,
   * SyntaxError for a reason over 123 UTF-8 bytes.
   */
  closeWithCode(code: number, reason = ''): void {
    if (!Number.isInteger(code) || !isValidCloseCode(code)) throw new RangeError(`${code} is not a close code that may be sent`);
    validateCloseArgs(1000, reason);
    if (this.guard) {
      this.guard.trip(new WebSocketError('The WebSocket was closed before the connection was established.'));
      return;
    }
    this.conn?.close(code, reason);
  }

  /**
   * For server adapters: ends an opening handshake still in progress with `reason` (`opened` rejects with it,
   * the connection is closed without a response). Returns false, doing nothing, once the handshake settled.
   * Unlike close(), it creates nothing per call: the admission policy drops thousands of stalled handshakes
   * per second under attack, with one shared error.
   */
  abortHandshake(reason: unknown): boolean {
    if (!this.guard) return false;
    this.guard.trip(reason);
    return true;
  }

  /** Shorthand for closeWithCode(1001, reason): the endpoint is going away (server shutdown). */
  goingAway(reason = ''): void {
    this.closeWithCode(1001, reason);
  }

  /** @internal The running core (a Connection for the codec engine), once open. */
  get core(): SessionCore | null {
    return this.conn;
  }

  /** Server role: receive what is published to `topic` (see Topics). Throws when the session belongs to no server. */
  subscribe(topic: string): void {
    this.registry().subscribe(this, topic);
  }

  /** Stops receiving `topic`. */
  unsubscribe(topic: string): void {
    this.topics?.unsubscribe(this, topic);
  }

  /** The topics this session is subscribed to. */
  get subscriptions(): string[] {
    return this.topics?.subscriptionsOf(this) ?? [];
  }

  /** True when subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return this.topics?.isSubscribed(this, topic) ?? false;
  }

  private registry(): TopicRegistry {
    if (this.topics === null) throw new DOMException('This WebSocket belongs to no server with topics.', 'InvalidStateError');
    return this.topics;
  }

  /** Sends a ping and resolves when its pong arrives; rejects if the session closes first or is not open. */
  ping(data?: Uint8Array): Promise<void> {
    if (!this.conn) return Promise.reject(new DOMException('The WebSocket is not open.', 'InvalidStateError'));
    return this.conn.ping(data);
  }
}

/**
 * Server role: reads and answers the opening handshake on `conn`, then runs the
 * session. Refusals are answered (status, headers, body) and the connection
 * closed; `opened` then rejects with the HandshakeError.
 */
export function accept<O extends AcceptOptions = AcceptOptions>(transport: ByteDuplex | ByteChannel, options: O = {} as O): WebSocketStream<MessageOf<O>> {
  const o = resolveShared(options);
  return startServer(toChannel(transport), options, o, new HandshakeGuard(o.handshakeTimeout, options.signal, 408), null);
}

/**
 * @internal ServerCore: the server role once the request head was read (pending-head.ts), `timeoutMs` being what
 * is left of the handshake timeout. `options` must be frozen (resolved once per server).
 */
export function acceptHead(conn: ByteChannel, options: AcceptOptions, head: RequestHead, rest: Uint8Array, timeoutMs: number): WebSocketStream {
  const o = resolveShared(options);
  const guard = new HandshakeGuard(timeoutMs === Infinity ? 0 : Math.max(1, timeoutMs), options.signal, 408);
  return startServer(conn, options, o, guard, { head, rest });
}

function startServer<R>(
  conn: ByteChannel,
  options: AcceptOptions,
  o: ResolvedOptions,
  guard: HandshakeGuard,
  read: { head: RequestHead; rest: Uint8Array } | null,
): WebSocketStream<R> {
  const ws = new WebSocketStream<R>('', guard, o, async () => {
    const s = await serverHandshake(conn, o, options, guard, read);
    const host = s.handshake.request.headers.get('host') ?? 'localhost';
    ws.request = s.handshake.request;
    return {
      role: 'server',
      conn,
      rest: s.rest,
      deflate: s.deflate,
      protocol: s.handshake.protocol,
      extensions: s.handshake.extensions,
      url: `${options.secure ? 'wss' : 'ws'}://${host}${s.handshake.path}`,
      request: s.handshake.request,
    };
  });
  return ws;
}

/**
 * Client role: writes the opening request for `url` on `conn` (or on the
 * connection a promise resolves to, so dialing counts against the handshake
 * timeout and abort), validates the 101, then runs the session. Throws
 * SyntaxError/TypeError synchronously for a bad URL, protocols or headers.
 */
export function connect<O extends ConnectOptions = ConnectOptions>(
  conn: ByteDuplex | ByteChannel | Promise<ByteDuplex | ByteChannel>,
  url: string | URL,
  options: O = {} as O,
): WebSocketStream<MessageOf<O>> {
  const o = resolveOptions(options);
  let req: ReturnType<typeof prepareRequest>;
  try {
    req = prepareRequest(url, o, options);
  } catch (e) {
    if (isThenable(conn)) conn.then((c) => abortConn(toChannel(c), e), noop);
    else abortConn(toChannel(conn), e);
    throw e;
  }
  const guard = new HandshakeGuard(o.handshakeTimeout, options.signal, 0);
  return startClient<MessageOf<O>>(conn, req, o, guard, () => prepareRequest(url, o, options));
}

/** @internal shared with the WebSocket class. */
export function startClient<R = ReceiveData>(
  conn: ByteDuplex | ByteChannel | Promise<ByteDuplex | ByteChannel>,
  req: ReturnType<typeof prepareRequest>,
  o: ResolvedOptions,
  guard: HandshakeGuard,
  rebuild: (req: ReturnType<typeof prepareRequest>) => ReturnType<typeof prepareRequest> = (r) => r,
): WebSocketStream<R> {
  const open = async (): Promise<SessionStart> => {
    let c: ByteChannel;
    try {
      c = toChannel(await guard.race(conn));
    } catch (e) {
      // A connection that arrives after an abort/timeout must not leak.
      if (isThenable(conn)) conn.then((late) => abortConn(toChannel(late), e), noop);
      throw e;
    }
    // Runtimes without process.getBuiltinModule load zlib lazily; rebuild the offer once it is there.
    if (o.deflate && !deflateAvailable && (await guard.race(loadZlib()))) req = rebuild(req);
    const s = await clientHandshake(c, req, o, guard);
    return {
      role: 'client',
      conn: c,
      rest: s.rest,
      deflate: s.deflate,
      protocol: s.protocol,
      extensions: s.extensions,
      response: s.response,
    };
  };
  return new WebSocketStream<R>(req.url.href, guard, o, () => open().catch((e: unknown) => { throw explainTimeout(e, req.url, o.handshakeTimeout); }));
}

/** The guard's timeout error, told where and after how long (it is shared by both roles and knows neither). */
function explainTimeout(e: unknown, url: URL, ms: number): unknown {
  if (e instanceof HandshakeError && e.code === 'HANDSHAKE_TIMEOUT') {
    e.message = `opening ${displayUrl(url)} timed out after ${ms} ms (connecting, TLS and the HTTP upgrade together)`;
  }
  return e;
}

export type { AcceptOptions, ConnectOptions };
