/**
 * Server side: `serve(options, handler)` listens with Bun.listen (TCP, or TLS with `tls`), binds every accepted
 * socket (SocketBinding) and hands it to the session's accept(), which reads the request head, applies the
 * policy (path, origins, protocols, deflate, onRequest ...) and answers 101 or the refusal. Each opened session
 * goes to `handler`. Same API shape as @streamsocket/node.
 *
 * What is Bun's lives here: listening, binding each socket, releasing the port. The rest is the session's
 * ServerCore, shared by the three adapters: connections still in the opening handshake are capped
 * (`maxPendingHandshakes`: beyond it, 503 and close); a failing handler closes its session with 1011; `close()`
 * stops accepting, aborts pending handshakes, sends 1001 (Going Away) to every session, waits for every
 * connection to be gone (bounded: `closeTimeout` + 1 s, then destroyed), and resolves once the port is released.
 */
import { DEFAULT_MAX_PENDING_HANDSHAKES, ServerCore, type AcceptOptions, type WebSocket, type WebSocketStream } from '@streamsocket/session';
import type { RequestHead } from '@streamsocket/handshake';
import { SocketBinding, socketHandlers } from './socket-streams.js';

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
  /** Bytes a socket's readable may queue before the socket is paused. Default 64 KiB. */
  socketReadHighWaterMark?: number;
}

export interface ConnectionInfo {
  /** The request head (method, target, headers) as the session validated it. */
  request: RequestHead;
  remoteAddress: string;
  remotePort: number;
  /** The underlying Bun socket. Don't read or write it. */
  socket: Bun.Socket<SocketBinding>;
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
  /** Resolves with the bound address (Bun listens synchronously: already resolved). */
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
  /** The underlying Bun listener. */
  readonly listener: Bun.TCPSocketListener<SocketBinding>;
  /** 1001 to every session, stop listening; resolves when every connection is gone and the port is released. */
  close(options?: CloseOptions): Promise<void>;
  /** Resolves when the server is fully closed. */
  readonly closed: Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export { DEFAULT_MAX_PENDING_HANDSHAKES };

/** The options the session's accept() gets. */
function acceptOptions(o: ServeOptions): AcceptOptions {
  const {
    hostname: _h, port: _p, tls: _t, permessageDeflate, maxPendingHandshakes: _m, webSocket: _w, signal: _s,
    onError: _e, socketReadHighWaterMark: _r, ...rest
  } = o;
  const a: AcceptOptions = { ...rest };
  if (permessageDeflate !== undefined && a.deflate === undefined) a.deflate = permessageDeflate;
  return a;
}

type AdapterInfo = Omit<ConnectionInfo, 'request'>;

export function serve(options: ServeOptions & { webSocket: true }, handler: WebSocketHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler | WebSocketHandler): WebSocketServer {
  const core = new ServerCore<AdapterInfo>(
    { accept: acceptOptions(options), maxPendingHandshakes: options.maxPendingHandshakes, webSocket: options.webSocket, onError: options.onError },
    handler as StreamHandler,
  );
  const { hostname = '0.0.0.0', port = 0, tls, signal } = options;
  const streamOpts = options.socketReadHighWaterMark !== undefined ? { readHighWaterMark: options.socketReadHighWaterMark } : {};
  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const onSocket = (socket: Bun.Socket<SocketBinding>): void => {
    const binding = new SocketBinding(streamOpts);
    binding.attach(socket);
    socket.setNoDelay?.(true);
    core.add(binding, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort ?? 0, socket });
  };

  const listener = Bun.listen<SocketBinding>({
    hostname,
    port,
    // The session half-closes after its close frame and keeps reading: Bun must not close on the peer's FIN.
    allowHalfOpen: true,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    socket: { ...socketHandlers, open: onSocket },
  });
  const bound: ServerAddress = { hostname: listener.hostname, port: listener.port };

  const close = (o: CloseOptions = {}): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      signal?.removeEventListener('abort', onAbort);
      // Stops accepting and releases the port at once; open sockets stay until their close handshakes end.
      listener.stop(false);
      await core.close(o.reason);
      listener.stop(true);
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
      return core.pendingHandshakes;
    },
    get connections() {
      return core.connections;
    },
    listener,
    close,
    closed,
    [Symbol.asyncDispose]: () => close(),
  };
}
