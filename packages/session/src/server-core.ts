/**
 * What every server adapter does with an accepted connection, whatever its runtime: run the opening handshake
 * (accept()), cap the connections still in it, hand each opened session to the application's handler, close
 * with 1011 when that handler fails, report every connection that did not become a WebSocket, and on shutdown
 * send 1001 to every session and wait, bounded, for the transports to be gone.
 *
 * The adapters keep only what is theirs: listening, accepting, binding a socket to a `ServedConnection`, and
 * releasing the port. So `serve()` behaves the same in Node, Deno and Bun, down to the status a connection over
 * the cap gets (503 with Retry-After) and the order of a shutdown.
 */
import { buildErrorResponse, type RequestHead } from '@streamsocket/handshake';
import type { ByteDuplex } from './pipe.js';
import { respondAndClose } from './server-handshake.js';
import { accept, type AcceptOptions, type WebSocketStream } from './websocket-stream.js';
import { wrapWebSocket, type WebSocket } from './websocket.js';
import { Topics, type PublishData, type PublishOptions, type TopicsOptions } from './topics.js';

/** An accepted transport as an adapter hands it over. */
export interface ServedConnection extends ByteDuplex {
  /** Resolves once the transport is fully closed (both directions, descriptor released). Never rejects. */
  readonly closed: Promise<void>;
  /** Tears the transport down at once, whatever its state. */
  destroy(): void;
  /**
   * Calls `owner.released(this)` once the transport is fully closed (at once if it already is). What the core
   * tracks connections with: one field on the transport instead of a promise reaction and a closure each.
   * Without it, the core chains `closed`.
   */
  track?(owner: ConnectionOwner): void;
}

/** Told when a tracked transport is fully closed (ServedConnection.track). */
export interface ConnectionOwner {
  released(conn: ServedConnection): void;
}

/** What the application learns about a connection: the adapter's own details plus the validated request head. */
export type Served<I> = I & { request: RequestHead };
/** What `onError` learns: `request` is null when the connection failed before a session opened (refused, malformed, timed out). */
export type Failed<I> = I & { request: RequestHead | null };

export type ServedStreamHandler<I> = (ws: WebSocketStream, info: Served<I>) => unknown;
export type ServedWebSocketHandler<I> = (ws: WebSocket, info: Served<I>) => unknown;

export interface ServerCoreOptions<I> {
  /** Handshake policy and session options for every connection. */
  accept: AcceptOptions;
  /** Connections allowed in the opening handshake at once; beyond it, 503 and close. Default 256. */
  maxPendingHandshakes?: number | undefined;
  /** Hand the handler a WHATWG `WebSocket` instead of a WebSocketStream. Default false. */
  webSocket?: boolean | undefined;
  /** Every connection that did not become a WebSocket, and every handler failure. Default: ignore. */
  onError?: ((error: unknown, info: Failed<I>) => void) | undefined;
  /** Topics of this server's sessions (slow-subscriber policy, backplane). */
  topics?: TopicsOptions | undefined;
}

/**
 * The serve() options every adapter takes, with their one documentation; each adapter adds its TLS and socket
 * options and its info type `I` (what `onError` and the handler learn besides the request).
 */
export interface ServeOptionsBase<I> extends Omit<AcceptOptions, 'request' | 'rest' | 'signal'> {
  /** Address to listen on. Default: '0.0.0.0' in Deno and Bun, Node's own default (every interface) in Node. */
  hostname?: string;
  /** Port; 0 (default) picks a free one: read it from `server.port`. */
  port?: number;
  /** Alias of `deflate`: accept permessage-deflate (RFC 7692) when offered. Default false. */
  permessageDeflate?: AcceptOptions['deflate'];
  /**
   * Connections allowed in the opening handshake at once (accepted, 101 not yet sent). Beyond it, a new
   * connection is answered 503 and closed. Default 256.
   */
  maxPendingHandshakes?: number;
  /** Hand the handler a WHATWG `WebSocket` object instead of a WebSocketStream. Default false. */
  webSocket?: boolean;
  /** Aborting it closes the server like close(). */
  signal?: AbortSignal;
  /**
   * Called for every connection that did not become a WebSocket (refused or malformed handshake, timeout, TLS
   * failure) and for errors thrown by the handler. Default: ignore (the peer got its error response).
   */
  onError?: (error: unknown, info: Failed<I>) => void;
  /** Topics (`ws.subscribe`, `server.publish`): slow-subscriber policy and limit, backplane. See Topics. */
  topics?: TopicsOptions;
}

export interface ServerCloseOptions {
  /** Close reason sent with the 1001. Default 'server shutting down'. */
  reason?: string;
}

/**
 * What every adapter's serve() returns (each adds its listener and address details, and `Symbol.asyncDispose`,
 * which this package's compilation target does not name).
 */
export interface WebSocketServerBase {
  /** Connections in the opening handshake. */
  readonly pendingHandshakes: number;
  /** Open sessions. */
  readonly connections: number;
  /** The open sessions (a snapshot). */
  readonly clients: ReadonlySet<WebSocketStream>;
  /** This server's topics registry (subscribers, `dropped`, `closedSlow`). */
  readonly topics: Topics;
  /** Sends to every subscriber of `topic` (`ws.subscribe(topic)`) but `except`; returns how many it reached here. */
  publish(topic: string, data: PublishData, options?: PublishOptions): number;
  /** 1001 to every session, stop listening; resolves when every connection is gone and the port is released. */
  close(options?: ServerCloseOptions): Promise<void>;
  /** Resolves when the server is fully closed. */
  readonly closed: Promise<void>;
}

const SERVE_KEYS = ['hostname', 'port', 'permessageDeflate', 'maxPendingHandshakes', 'webSocket', 'signal', 'onError', 'topics'];

/**
 * The session options inside an adapter's serve() options: everything but the serve-level keys and the
 * adapter's own (`adapterKeys`: its TLS and socket options), with `permessageDeflate` as `deflate`.
 */
export function acceptOptionsOf(options: ServeOptionsBase<never>, adapterKeys: readonly string[]): AcceptOptions {
  const a: Record<string, unknown> = { ...options };
  for (const k of SERVE_KEYS) delete a[k];
  for (const k of adapterKeys) delete a[k];
  const accept = a as AcceptOptions;
  if (options.permessageDeflate !== undefined && accept.deflate === undefined) accept.deflate = options.permessageDeflate;
  return accept;
}

export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;
const DEFAULT_CLOSE_TIMEOUT = 5_000;
/** Past the close timeout, how long connections may linger on shutdown before they are destroyed. */
const SHUTDOWN_GRACE_MS = 1_000;
/** How long a connection refused over the cap may take to read our 503 and go. */
const REFUSAL_LINGER_MS = 2_000;
const DEFAULT_SHUTDOWN_REASON = 'server shutting down';

const noop = (): void => {};

export class ServerCore<I extends object> implements ConnectionOwner {
  readonly #pending = new Set<WebSocketStream>();
  /**
   * Every connection handed over and not yet released by its transport, with its session once that opened (null
   * before, and for refused or failed ones): close() waits for and, if need be, destroys them. Entries leave when
   * the transport reports itself closed (`released`), not on the session's `closed`: no promise reaction per
   * open connection. A session ends before its transport (it closes it), so `connections` skips closed ones.
   */
  readonly #conns = new Map<ServedConnection, WebSocketStream | null>();
  readonly #handler: ServedStreamHandler<I> | ServedWebSocketHandler<I>;
  readonly #options: ServerCoreOptions<I>;
  readonly #maxPending: number;
  #closing: Promise<void> | null = null;
  #allGone: (() => void) | null = null;
  #reason = DEFAULT_SHUTDOWN_REASON;
  /** `ws.subscribe()` and `publish()` of this server's sessions. */
  readonly topics: Topics;

  constructor(options: ServerCoreOptions<I> & { webSocket: true }, handler: ServedWebSocketHandler<I>);
  constructor(options: ServerCoreOptions<I>, handler: ServedStreamHandler<I>);
  constructor(options: ServerCoreOptions<I>, handler: ServedStreamHandler<I> | ServedWebSocketHandler<I>) {
    const max = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
    if (!(max >= 1)) throw new RangeError('maxPendingHandshakes must be >= 1');
    this.#maxPending = max;
    // Frozen: the session then resolves the options once for every connection (websocket-stream.ts).
    this.#options = { ...options, accept: Object.isFrozen(options.accept) ? options.accept : Object.freeze({ ...options.accept }) };
    this.#handler = handler;
    this.topics = new Topics(options.topics);
  }

  /** The open sessions (a snapshot: a new Set on each call). */
  get clients(): ReadonlySet<WebSocketStream> {
    const out = new Set<WebSocketStream>();
    for (const ws of this.#conns.values()) if (ws !== null && ws.readyState !== 3) out.add(ws);
    return out;
  }

  publish(topic: string, data: PublishData, options?: PublishOptions): number {
    return this.topics.publish(topic, data, options);
  }

  /** Connections in the opening handshake. */
  get pendingHandshakes(): number {
    return this.#pending.size;
  }

  /** Open sessions. */
  get connections(): number {
    let n = 0;
    for (const ws of this.#conns.values()) if (ws !== null && ws.readyState !== 3) n++;
    return n;
  }

  /** True once close() was called: adapters stop accepting. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** Takes one accepted connection through the handshake to the handler. */
  add(conn: ServedConnection, info: I): void {
    if (this.#closing) return conn.destroy();
    this.#conns.set(conn, null);
    if (conn.track) conn.track(this);
    else void conn.closed.then(() => this.released(conn));
    if (this.#pending.size >= this.#maxPending) return refuseBusy(conn);
    const failed = info as Failed<I>;
    failed.request = null;
    const ws = accept(conn, this.#options.accept);
    this.#pending.add(ws);
    ws.opened.then(
      () => {
        this.#pending.delete(ws);
        failed.request = ws.request;
        if (this.#closing) return void ws.closeWithCode(1001, this.#reason);
        // (a transport already released has a closed session: nothing to track)
        if (this.#conns.has(conn)) this.#conns.set(conn, ws);
        ws.topics = this.topics;
        this.#run(ws, failed as Served<I>);
      },
      (e: unknown) => {
        this.#pending.delete(ws);
        failed.request = ws.request;
        this.report(e, failed);
      },
    );
  }

  /** @internal (ConnectionOwner) The transport of `conn` is fully closed. */
  released(conn: ServedConnection): void {
    const ws = this.#conns.get(conn);
    if (ws) this.topics.forget(ws); // (publish skips sessions that closed before their transport was released)
    this.#conns.delete(conn);
    if (this.#conns.size === 0) this.#allGone?.();
  }

  /**
   * Aborts the handshakes in progress, sends 1001 (with `reason`) to every session, and resolves once every
   * connection is gone: closed by the peer's answer, or destroyed after the close timeout and a short grace.
   * Idempotent. The adapter stops listening around it.
   */
  close(reason?: string): Promise<void> {
    if (this.#closing) return this.#closing;
    if (reason !== undefined) this.#reason = reason;
    this.#closing = (async () => {
      for (const ws of this.#pending) ws.close();
      for (const ws of this.#conns.values()) if (ws !== null) ws.closeWithCode(1001, this.#reason);
      const limit = (this.#options.accept.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT) + SHUTDOWN_GRACE_MS;
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (this.#conns.size > 0) {
        await new Promise<void>((r) => {
          this.#allGone = r;
          timer = setTimeout(r, limit);
        });
      }
      clearTimeout(timer);
      for (const c of this.#conns.keys()) c.destroy();
      this.#conns.clear();
    })();
    return this.#closing;
  }

  #run(ws: WebSocketStream, info: Served<I>): void {
    const failed = (e: unknown): void => {
      this.report(e, info);
      ws.closeWithCode(1011, 'internal error');
    };
    let r: unknown;
    try {
      r = this.#options.webSocket
        ? (this.#handler as ServedWebSocketHandler<I>)(wrapWebSocket(ws), info)
        : (this.#handler as ServedStreamHandler<I>)(ws, info);
    } catch (e) {
      return failed(e);
    }
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(noop, failed);
  }

  /** Hands a connection's failure to `onError` (adapters too, e.g. for a failed TLS handshake); never throws. */
  report(e: unknown, info: Failed<I>): void {
    try {
      this.#options.onError?.(e, info);
    } catch {
      /* a throwing error hook must not break the server */
    }
  }
}

/**
 * Over the pending-handshake cap: 503, FIN, no session at all. The transport drains until the peer's FIN
 * (bounded by its linger) so the 503 is not wiped out by a reset; a peer that does not read it in time is cut off.
 */
function refuseBusy(conn: ServedConnection): void {
  void respondAndClose(conn, buildErrorResponse(503, { headers: [['Retry-After', '1']] }), REFUSAL_LINGER_MS);
}

/**
 * Server-initiated closes with codes the WHATWG `close()` refuses to take from applications: 1001 Going Away on
 * shutdown, 1011 Internal Error after a handler failure, 1013 Try Again Later. Legitimate on the wire (RFC 6455
 * 7.4.1); sent through `WebSocketStream.closeWithCode()`. Every adapter exports it.
 */
export function goingAway(ws: WebSocketStream, reason: string, code = 1001): void {
  ws.closeWithCode(code, reason);
}
