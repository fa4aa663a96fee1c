/**
 * What every server adapter does with an accepted connection, whatever its runtime: run the opening handshake
 * (accept()), cap the connections still in it, hand each opened session to the application's handler, close
 * with 1011 when that handler fails, report every connection that did not become a WebSocket, and on shutdown
 * send 1001 to every session and wait, bounded, for the transports to be gone.
 *
 * The adapters keep only what is theirs: listening, accepting, binding a socket to a `ServedConnection`, and
 * releasing the port. So `serve()` behaves the same in Node, Deno and Bun, down to which connection is dropped
 * at the pending cap and the order of a shutdown.
 *
 * Who gets into the handshake is the admission policy's call (admission.ts): at the pending cap the oldest
 * pending handshake is dropped rather than the newest refused, per-address caps keep one host from taking the
 * room, and trusted proxies' `Forwarded`/`X-Forwarded-For` name the client.
 */
import { buildErrorResponse, HandshakeError, type RequestHead } from '@streamsocket/handshake';
import { Admission, DEFAULT_ADMISSION, DROPPED, type AdmissionOptions, type AdmissionStats, type DropReason, type PendingEntry } from './admission.js';
import type { ByteChannel, ConnectionOwner } from './channel.js';
import { respondAndClose } from './server-handshake.js';
import { acceptHead, resolveShared, type AcceptOptions, type WebSocketStream } from './websocket-stream.js';
import { PendingHead, type HeadFailure, type HeadOwner } from './pending-head.js';
import type { ResolvedOptions } from './options.js';
import type { RequestHead as Head } from '@streamsocket/handshake';
import { wrapWebSocket, type WebSocket } from './websocket.js';
import { Topics, type PublishData, type PublishOptions, type TopicsOptions } from './topics.js';

/** An accepted transport as an adapter hands it over: its channel (`closed`, `destroy()` and `track()` included). */
export interface ServedConnection extends ByteChannel {
  /**
   * TLS connections whose adapter can tell: false until the TLS handshake completed. A handshake timeout while
   * it is false is counted as a TLS handshake timeout.
   */
  secured?: boolean;
}

/** What the application learns about a connection: the adapter's own details plus the validated request head. */
export type Served<I> = I & { request: RequestHead; clientAddress: string };
/** What `onError` learns: `request` is null when the connection failed before a session opened (refused, malformed, timed out). */
export type Failed<I> = I & { request: RequestHead | null; clientAddress: string };

export type ServedStreamHandler<I> = (ws: WebSocketStream, info: Served<I>) => unknown;
export type ServedWebSocketHandler<I> = (ws: WebSocket, info: Served<I>) => unknown;

export interface ServerCoreOptions<I> extends AdmissionOptions {
  /** Handshake policy and session options for every connection. */
  accept: AcceptOptions;
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
   * Connections allowed in the opening handshake at once (accepted, 101 not yet sent). At the cap a new
   * connection still gets in and the oldest pending one is dropped (closed; counted in `stats.evicted`): a
   * client that completes its handshake is never the oldest, a socket that stalls always becomes it. Default
   * 4096, sized from the memory a pending handshake costs (session README, "Admission").
   */
  maxPendingHandshakes?: number;
  /**
   * Pending handshakes one address (an IPv6 /64) may hold; over it that address's own oldest is dropped
   * (`stats.evictedPerAddress`). Peers in `trustedProxies` are exempt. Default 1024.
   */
  maxPendingHandshakesPerAddress?: number;
  /**
   * Open sessions one client address (an IPv6 /64) may hold: over it a new connection is answered 429 before
   * its handshake (or, when the address came from a trusted proxy's header, closed with 1013 after the 101).
   * Default Infinity, so that a reverse proxy's single address is never refused; set it together with
   * `trustedProxies` behind a proxy.
   */
  maxConnectionsPerAddress?: number;
  /**
   * Reverse proxies whose `Forwarded` / `X-Forwarded-For` header names the client (addresses or CIDR ranges,
   * e.g. `['127.0.0.1', '10.0.0.0/8']`, or a test). Only then are those headers read: `info.clientAddress` and
   * the per-address caps use the client they name. Default none.
   */
  trustedProxies?: AdmissionOptions['trustedProxies'];
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
  /** Admission counters: handshakes admitted, dropped at the caps, refused per address, timed out. */
  readonly stats: Readonly<AdmissionStats>;
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

const SERVE_KEYS = [
  'hostname', 'port', 'permessageDeflate', 'maxPendingHandshakes', 'maxPendingHandshakesPerAddress', 'maxConnectionsPerAddress',
  'trustedProxies', 'webSocket', 'signal', 'onError', 'topics',
];

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

/** ServerCore's options from an adapter's serve() options, with `accept` as the sessions' (see acceptOptionsOf). */
export function coreOptionsOf<I>(options: ServeOptionsBase<I>, accept: AcceptOptions): ServerCoreOptions<I> {
  return {
    accept,
    maxPendingHandshakes: options.maxPendingHandshakes,
    maxPendingHandshakesPerAddress: options.maxPendingHandshakesPerAddress,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress,
    trustedProxies: options.trustedProxies,
    webSocket: options.webSocket,
    onError: options.onError,
    topics: options.topics,
  };
}

export const DEFAULT_MAX_PENDING_HANDSHAKES = DEFAULT_ADMISSION.maxPendingHandshakes;
const DEFAULT_CLOSE_TIMEOUT = 5_000;
/** Past the close timeout, how long connections may linger on shutdown before they are destroyed. */
const SHUTDOWN_GRACE_MS = 1_000;
/** How long a refused connection (429) may take to read our answer and go. */
const REFUSAL_LINGER_MS = 2_000;
const DEFAULT_SHUTDOWN_REASON = 'server shutting down';

const noop = (): void => {};
/** What handshakes still reading their head end with when the server closes (onError learns it). */
const SHUTDOWN_ERROR = new HandshakeError(503, 'SERVER_CLOSING', 'the server closed during the opening handshake');

/**
 * A connection's place in the admission from TCP accept until its handshake settles. Adapters that own a TLS
 * accept take it at TCP accept (`admitEarly`), so that a TLS handshake in progress is a pending handshake too.
 */
export class Admitted {
  /** @internal */ entry: PendingEntry | null = null;
  /** @internal While the request head is being read. */ head: PendingHead<Admitted> | null = null;
  /** @internal Once the head was read, until the handshake settles. */ ws: WebSocketStream | null = null;
  /** @internal What onError learns about it (set by add()). */ info: Failed<object> | null = null;
  /** Why the admission dropped it, or null. */
  dropped: DropReason | null = null;
  constructor(
    /** The peer address the per-address caps count it under. */
    readonly address: string,
    /** Tears the transport down (the TCP socket under a TLS one). */
    readonly destroy: () => void,
  ) {}
  /** @internal */ drop(reason: DropReason): void {
    this.dropped = reason;
    // One shared error: nothing allocated per dropped connection.
    this.head?.drop(DROPPED[reason]);
    this.ws?.abortHandshake(DROPPED[reason]);
    this.destroy();
  }
}

export class ServerCore<I extends object> implements ConnectionOwner, HeadOwner<Admitted> {
  /** Handshakes whose head is read, until they settle (the onRequest hook may still run). */
  readonly #pending = new Set<WebSocketStream>();
  /** Connections still reading their request head (see pending-head.ts): what close() drops. */
  readonly #heads = new Set<PendingHead<Admitted>>();
  readonly #resolved: ResolvedOptions;
  /**
   * Every connection handed over and not yet released by its transport, with its session once that opened (null
   * before, and for refused or failed ones): close() waits for and, if need be, destroys them. Entries leave when
   * the transport reports itself closed (`released`), not on the session's `closed`: no promise reaction per
   * open connection. A session ends before its transport (it closes it), so `connections` skips closed ones.
   */
  readonly #conns = new Map<ServedConnection, WebSocketStream | null>();
  readonly #handler: ServedStreamHandler<I> | ServedWebSocketHandler<I>;
  readonly #options: ServerCoreOptions<I>;
  readonly #admission: Admission;
  /** Client address of each open session, kept only when maxConnectionsPerAddress is finite. */
  readonly #clientOf: Map<ServedConnection, string> | null;
  #closing: Promise<void> | null = null;
  #allGone: (() => void) | null = null;
  #reason = DEFAULT_SHUTDOWN_REASON;
  /** `ws.subscribe()` and `publish()` of this server's sessions. */
  readonly topics: Topics;

  constructor(options: ServerCoreOptions<I> & { webSocket: true }, handler: ServedWebSocketHandler<I>);
  constructor(options: ServerCoreOptions<I>, handler: ServedStreamHandler<I>);
  constructor(options: ServerCoreOptions<I>, handler: ServedStreamHandler<I> | ServedWebSocketHandler<I>) {
    this.#admission = new Admission(options);
    this.#clientOf = this.#admission.maxOpenPerAddress === Infinity ? null : new Map();
    // Frozen: the session then resolves the options once for every connection (websocket-stream.ts). A WebSocket
    // handler's MessageEvents carry whole messages, so streamMessages is for stream handlers only.
    const accept = options.webSocket && options.accept.streamMessages ? { ...options.accept, streamMessages: false } : options.accept;
    this.#options = { ...options, accept: Object.isFrozen(accept) ? accept : Object.freeze({ ...accept }) };
    this.#resolved = resolveShared(this.#options.accept);
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

  /** Connections in the opening handshake (with admitEarly, from TCP accept: TLS handshakes included). */
  get pendingHandshakes(): number {
    return this.#admission.pending;
  }

  /** Open sessions. */
  get connections(): number {
    let n = 0;
    for (const ws of this.#conns.values()) if (ws !== null && ws.readyState !== 3) n++;
    return n;
  }

  /** Admission counters (see AdmissionStats). */
  get stats(): AdmissionStats {
    return this.#admission.stats;
  }

  /** The admission policy (per-address counts, for introspection and tests). */
  get admission(): Admission {
    return this.#admission;
  }

  /**
   * For adapters that own a TLS accept: admits a TCP connection before its TLS handshake (dropped through
   * `destroy` when the policy makes room). Returns null when refused (closing, or the address holds
   * `maxConnectionsPerAddress` sessions: `destroy` was called). Pass the result to add() once the TLS handshake
   * completed, and to leave() if the transport closes before that.
   */
  admitEarly(address: string, destroy: () => void): Admitted | null {
    if (this.#closing || !this.#admission.mayConnect(address)) {
      destroy();
      return null;
    }
    const a = new Admitted(address, destroy);
    a.entry = this.#admission.enter(address, (reason) => a.drop(reason));
    return a;
  }

  /** An early admission whose transport closed before add() (failed TLS handshake). Idempotent. */
  leave(a: Admitted): void {
    if (a.entry) this.#admission.leave(a.entry);
  }

  /** True once close() was called: adapters stop accepting. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /**
   * Takes one accepted connection through the handshake to the handler. `address` is the peer's address (the
   * per-address caps count under it; default `info.remoteAddress`), `early` its admission when the adapter took
   * it at TCP accept (admitEarly).
   */
  add(conn: ServedConnection, info: I, address?: string, early?: Admitted | null): void {
    if (this.#closing) return conn.destroy();
    this.#conns.set(conn, null);
    conn.track(this);
    const peer = early?.address ?? address ?? String((info as { remoteAddress?: unknown }).remoteAddress ?? '');
    const failed = info as Failed<I>;
    failed.request = null;
    failed.clientAddress = peer;
    const admission = this.#admission;
    let a = early ?? null;
    if (a === null) {
      if (!admission.mayConnect(peer)) {
        refuse(conn, 429);
        this.report(new HandshakeError(429, 'TOO_MANY_CONNECTIONS', `${peer} holds maxConnectionsPerAddress sessions`), failed);
        return;
      }
      const admitted = new Admitted(peer, () => conn.destroy());
      admitted.entry = admission.enter(peer, (reason) => admitted.drop(reason));
      a = admitted;
    }
    if (a.dropped !== null) return conn.destroy(); // dropped during its TLS handshake
    a.info = failed;
    const head = new PendingHead(conn, this.#resolved, this, a);
    a.head = head;
    this.#heads.add(head);
  }

  /** @internal (HeadOwner) The request head is complete: the rest of the handshake, then the handler. */
  headRead(p: PendingHead<Admitted>, request: Head, rest: Uint8Array, remainingMs: number): void {
    const admitted = p.data;
    const conn = p.conn as ServedConnection;
    const failed = admitted.info as Failed<I>;
    const admission = this.#admission;
    this.#heads.delete(p);
    admitted.head = null;
    const ws = acceptHead(conn, this.#options.accept, request, rest, remainingMs);
    admitted.ws = ws;
    this.#pending.add(ws);
    ws.opened.then(
      () => {
        this.#pending.delete(ws);
        admission.leave(admitted.entry!);
        failed.request = ws.request;
        if (this.#closing) return void ws.closeWithCode(1001, this.#reason);
        const peer = admitted.address;
        const client = admission.clientAddress(peer, ws.request?.headers);
        failed.clientAddress = client;
        if (this.#clientOf !== null) {
          if (!admission.open(client)) {
            ws.closeWithCode(1013, 'too many connections from this address');
            this.report(new HandshakeError(429, 'TOO_MANY_CONNECTIONS', `${client} holds maxConnectionsPerAddress sessions`), failed);
            return;
          }
          if (this.#conns.has(conn)) this.#clientOf.set(conn, client);
          else admission.closed(client);
        }
        // (a transport already released has a closed session: nothing to track)
        if (this.#conns.has(conn)) this.#conns.set(conn, ws);
        ws.topics = this.topics;
        this.#run(ws, failed as Served<I>);
      },
      (e: unknown) => {
        this.#pending.delete(ws);
        admission.leave(admitted.entry!);
        failed.request = ws.request;
        if (admitted.dropped !== null) e = DROPPED[admitted.dropped];
        else if (e instanceof HandshakeError && e.code === 'HANDSHAKE_TIMEOUT') this.#countTimeout(conn);
        this.report(e, failed);
      },
    );
  }

  /** @internal (HeadOwner) The connection ended before its request head was complete. */
  headFailed(p: PendingHead<Admitted>, how: HeadFailure, error: unknown): void {
    const admitted = p.data;
    this.#heads.delete(p);
    admitted.head = null;
    this.#admission.leave(admitted.entry!);
    if (how === 'timeout') this.#countTimeout(p.conn as ServedConnection);
    // The timeout's error is built only when someone reads it: under a slowloris thousands time out at once.
    if (this.#options.onError) this.report(error ?? new HandshakeError(408, 'HANDSHAKE_TIMEOUT', 'the opening handshake timed out'), admitted.info as Failed<I>);
  }

  #countTimeout(conn: ServedConnection): void {
    if (conn.secured === false) this.#admission.stats.tlsHandshakeTimeouts++;
    else this.#admission.stats.handshakeTimeouts++;
  }

  /** @internal (ConnectionOwner) The transport of `conn` is fully closed. */
  released(conn: ServedConnection): void {
    const ws = this.#conns.get(conn);
    if (ws) this.topics.forget(ws); // (publish skips sessions that closed before their transport was released)
    this.#conns.delete(conn);
    const client = this.#clientOf?.get(conn);
    if (client !== undefined) {
      this.#clientOf!.delete(conn);
      this.#admission.closed(client);
    }
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
      for (const p of this.#heads) {
        p.drop(SHUTDOWN_ERROR);
        p.conn.abort(SHUTDOWN_ERROR);
      }
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
 * Refused before the handshake (429 over the per-address session cap): the answer, FIN, no session. The transport
 * drains until the peer's FIN (bounded by its linger) so the answer is not wiped out by a reset; a peer that does
 * not read it in time is cut off.
 */
function refuse(conn: ServedConnection, status: number): void {
  void respondAndClose(conn, buildErrorResponse(status, { headers: [['Retry-After', '1']] }), REFUSAL_LINGER_MS);
}

/**
 * Server-initiated closes with codes the WHATWG `close()` refuses to take from applications: 1001 Going Away on
 * shutdown, 1011 Internal Error after a handler failure, 1013 Try Again Later. Legitimate on the wire (RFC 6455
 * 7.4.1); sent through `WebSocketStream.closeWithCode()`. Every adapter exports it.
 */
export function goingAway(ws: WebSocketStream, reason: string, code = 1001): void {
  ws.closeWithCode(code, reason);
}

/** `Symbol.asyncDispose` where the runtime has it (this package's compilation target does not name it). */
const asyncDispose: symbol = (Symbol as unknown as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('Symbol.asyncDispose');

/**
 * The part of every adapter's server object that is not the adapter's: the core's counters, clients and topics,
 * `closed`, and one idempotent `close()` that runs the adapter's `shutdown(reason)` (stop listening around
 * `core.close()`) once; aborting `signal` closes too. Adds these to `own` (the adapter's fields: address,
 * listener ...) and returns it, with `[Symbol.asyncDispose]` as `close()`.
 */
export function serverObject<I extends object, T extends object>(
  core: ServerCore<I>,
  own: T,
  shutdown: (reason: string | undefined) => Promise<void>,
  signal?: AbortSignal,
): T & WebSocketServerBase {
  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const onAbort = (): void => void close();
  const close = (o: ServerCloseOptions = {}): Promise<void> =>
    (closing ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      await shutdown(o.reason);
      resolveClosed();
    })());
  if (signal) {
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const base: WebSocketServerBase & { [k: symbol]: () => Promise<void> } = {
    closed,
    close,
    get pendingHandshakes() {
      return core.pendingHandshakes;
    },
    get connections() {
      return core.connections;
    },
    get stats() {
      return core.stats;
    },
    get clients() {
      return core.clients;
    },
    topics: core.topics,
    publish: (topic, data, o) => core.publish(topic, data, o),
    [asyncDispose]: () => close(),
  };
  return Object.defineProperties(own, Object.getOwnPropertyDescriptors(base)) as T & WebSocketServerBase;
}
