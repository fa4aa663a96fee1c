/**
 * Server side: `serve(options, handler)` listens with Deno.listen / Deno.listenTls, binds every accepted
 * connection (connStreams) and hands it to the session's accept(), which reads the request head, applies the
 * policy (path, origins, protocols, deflate, onRequest ...) and answers 101 or the refusal. Each opened session
 * goes to `handler`. Same API shape as @streamsocket/node.
 *
 * Lifecycle bookkeeping is the only thing that lives here:
 * - connections still in the opening handshake are capped (`maxPendingHandshakes`): beyond it a new connection
 *   is answered 503 and closed at once, so a flood of idle sockets cannot hold unbounded head buffers and timers;
 * - `close()` stops accepting, aborts pending handshakes, closes every open session with 1001 (Going Away), waits
 *   for every connection to be gone (bounded: `closeTimeout` + 1 s, then destroyed), and resolves once the port
 *   is released.
 */
import { accept, wrapWebSocket, type AcceptOptions, type WebSocket, type WebSocketStream } from '@streamsocket/session';
import { buildErrorResponse, type RequestHead } from '@streamsocket/handshake';
import { connStreams, type ConnStreams } from './conn-streams.js';
import { goingAway } from './going-away.js';

export interface TlsServerOptions {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM (RSA, EC or PKCS8). */
  key: string;
}

export interface ServeOptions extends Omit<AcceptOptions, 'request' | 'rest' | 'signal'> {
  /** Address to listen on. Default '0.0.0.0'; '::' for every IPv6 (and, per OS, IPv4) address. */
  hostname?: string;
  /** Port; 0 (default) picks a free one: read it from `server.port`. */
  port?: number;
  /** Serve wss: with this certificate and key. */
  tls?: TlsServerOptions;
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
  onError?: (error: unknown, info: FailedConnectionInfo) => void;
  /** Bytes per socket read buffer. Default 64 KiB. */
  readBufferSize?: number;
}

export interface ConnectionInfo {
  /** The request head (method, target, headers) as the session validated it. */
  request: RequestHead;
  remoteAddress: string;
  remotePort: number;
  /** The underlying connection (a TlsConn for wss:). Don't read or write it. */
  conn: Deno.Conn;
}

/** What `onError` learns about a connection: the request head is null when it failed before that was read. */
export interface FailedConnectionInfo extends Omit<ConnectionInfo, 'request'> {
  request: RequestHead | null;
}

export type StreamHandler = (ws: WebSocketStream, info: ConnectionInfo) => unknown;
export type WebSocketHandler = (ws: WebSocket, info: ConnectionInfo) => unknown;

export interface CloseOptions {
  /** Close reason sent with the 1001. Default 'server shutting down'. */
  reason?: string;
}

export interface ServerAddress {
  hostname: string;
  port: number;
}

export interface WebSocketServer {
  /** Resolves with the bound address (Deno listens synchronously: already resolved). */
  readonly ready: Promise<ServerAddress>;
  readonly hostname: string;
  readonly port: number;
  readonly address: ServerAddress;
  /** ws://host:port (or wss:), with IPv6 literals in brackets. */
  readonly url: string;
  /** Connections in the opening handshake. */
  readonly pendingHandshakes: number;
  /** Open sessions. */
  readonly connections: number;
  /** The underlying Deno listener. */
  readonly listener: Deno.Listener;
  /** 1001 to every session, stop listening; resolves when every connection is gone and the port is released. */
  close(options?: CloseOptions): Promise<void>;
  /** Resolves when the server is fully closed. */
  readonly closed: Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;
const DEFAULT_CLOSE_TIMEOUT = 5_000;
/** Extra time, past the close timeout, for connections to finish lingering before they are destroyed. */
const SHUTDOWN_GRACE_MS = 1_000;

const noop = (): void => {};

/** The options the session's accept() gets. */
function acceptOptions(o: ServeOptions): AcceptOptions {
  const {
    hostname: _h, port: _p, tls: _t, permessageDeflate, maxPendingHandshakes: _m, webSocket: _w, signal: _s,
    onError: _e, readBufferSize: _r, ...rest
  } = o;
  const a: AcceptOptions = { ...rest };
  if (permessageDeflate !== undefined && a.deflate === undefined) a.deflate = permessageDeflate;
  return a;
}

export function serve(options: ServeOptions & { webSocket: true }, handler: WebSocketHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler | WebSocketHandler): WebSocketServer {
  const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
  if (!(maxPending >= 1)) throw new RangeError('maxPendingHandshakes must be >= 1');
  const accOpts = acceptOptions(options);
  const { hostname = '0.0.0.0', port = 0, tls, signal, onError } = options;
  const streamOpts = options.readBufferSize !== undefined ? { readBufferSize: options.readBufferSize } : {};
  const listener = tls
    ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key, transport: 'tcp', alpnProtocols: ['http/1.1'] })
    : Deno.listen({ hostname, port, transport: 'tcp' });
  const bound: ServerAddress = { hostname: listener.addr.hostname, port: listener.addr.port };

  const pending = new Set<WebSocketStream>();
  const open = new Set<WebSocketStream>();
  /** Every accepted connection's binding, so close() can wait for and, if need be, destroy them. */
  const conns = new Set<ConnStreams>();
  let closing: Promise<void> | null = null;
  let closeReason = 'server shutting down';
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const report = (e: unknown, info: FailedConnectionInfo): void => {
    try {
      onError?.(e, info);
    } catch {
      /* a throwing error hook must not break the server */
    }
  };

  const onConn = (conn: Deno.Conn): void => {
    conn.setNoDelay?.(true);
    const streams = connStreams(conn, streamOpts);
    conns.add(streams);
    void streams.closed.then(() => conns.delete(streams));
    if (pending.size >= maxPending) return refuseBusy(streams);
    const info: FailedConnectionInfo = {
      request: null,
      remoteAddress: conn.remoteAddr.hostname,
      remotePort: conn.remoteAddr.port,
      conn,
    };
    const ws = accept({ readable: streams.readable, writable: streams.writable, direct: streams.direct }, accOpts);
    pending.add(ws);
    ws.opened.then(
      () => {
        pending.delete(ws);
        info.request = ws.request;
        if (closing) return goingAway(ws, closeReason);
        open.add(ws);
        ws.closed.then(
          () => open.delete(ws),
          () => open.delete(ws),
        );
        runHandler(ws, info as ConnectionInfo);
      },
      (e: unknown) => {
        pending.delete(ws);
        info.request = ws.request;
        report(e, info);
      },
    );
  };

  const runHandler = (ws: WebSocketStream, info: ConnectionInfo): void => {
    const failed = (e: unknown): void => {
      report(e, info);
      goingAway(ws, 'internal error', 1011);
    };
    let r: unknown;
    try {
      r = options.webSocket ? (handler as WebSocketHandler)(wrapWebSocket(ws), info) : (handler as StreamHandler)(ws, info);
    } catch (e) {
      return failed(e);
    }
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(noop, failed);
  };

  const acceptLoop = (async (): Promise<void> => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        if (closing) return;
        // Out of descriptors and the like: back off briefly rather than spin.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (closing) {
        conn.close();
        return;
      }
      onConn(conn);
    }
  })();

  const close = (o: CloseOptions = {}): Promise<void> => {
    if (closing) return closing;
    if (o.reason !== undefined) closeReason = o.reason;
    closing = (async () => {
      signal?.removeEventListener('abort', onAbort);
      try {
        listener.close();
      } catch {
        /* already closed */
      }
      // The port is released once the pending accept() has been rejected (see Deno.Listener.close).
      await acceptLoop;
      for (const ws of pending) ws.close();
      for (const ws of open) goingAway(ws, closeReason);
      const limit = (accOpts.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT) + SHUTDOWN_GRACE_MS;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gone = Promise.all([...conns].map((c) => c.closed));
      await Promise.race([gone, new Promise<void>((r) => (timer = setTimeout(r, limit)))]);
      clearTimeout(timer);
      for (const c of conns) c.destroy();
      conns.clear();
      resolveClosed();
    })();
    return closing;
  };
  const onAbort = (): void => void close();
  if (signal) {
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  const host = bound.hostname.includes(':') ? `[${bound.hostname}]` : bound.hostname;
  return {
    ready: Promise.resolve(bound),
    hostname: bound.hostname,
    port: bound.port,
    address: bound,
    url: `${tls ? 'wss' : 'ws'}://${host}:${bound.port}`,
    get pendingHandshakes() {
      return pending.size;
    },
    get connections() {
      return open.size;
    },
    listener,
    close,
    closed,
    [Symbol.asyncDispose]: () => close(),
  };
}

/** Over the pending-handshake cap: 503, FIN, no session at all (the binding drains and closes, bounded). */
function refuseBusy(streams: ConnStreams): void {
  const w = streams.writable.getWriter();
  w.write(buildErrorResponse(503, { headers: [['Retry-After', '1']] })).catch(noop);
  w.close().catch(noop);
  streams.readable.cancel().catch(noop);
}
