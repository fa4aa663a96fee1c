/**
 * Server side: `serve(options, handler)` listens with Bun.listen (TCP, or TLS with `tls`), binds every accepted
 * socket (SocketBinding) and hands it to the session's accept(), which reads the request head, applies the
 * policy (path, origins, protocols, deflate, onRequest ...) and answers 101 or the refusal. Each opened session
 * goes to `handler`. Same API shape as @streamsocket/node.
 *
 * What is Bun's lives here: listening, binding each socket, releasing the port. The rest is the session's
 * ServerCore, shared by the three adapters: connections still in the opening handshake are capped
 * (the admission policy: at `maxPendingHandshakes` the oldest pending one is dropped, per-address caps); a failing handler closes its session with 1011; `close()`
 * stops accepting, aborts pending handshakes, sends 1001 (Going Away) to every session, waits for every
 * connection to be gone (bounded: `closeTimeout` + 1 s, then destroyed), and resolves once the port is released.
 */
import type * as Bun from './bun-api.js';
import { bunRuntime } from './bun-api.js';
import {
  acceptOptionsOf,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  ServerCore,
  coreOptionsOf,
  serverObject,
  type ServeOptionsBase,
  type ServerCloseOptions,
  type ServedConnection,
  type WebSocket,
  type WebSocketServerBase,
  type WebSocketStream,
  type StreamedMessage,
} from '@streamsocket/session';
import type { RequestHead } from '@streamsocket/handshake';
import { SocketBinding, socketHandlers } from './socket-channel.js';

export interface TlsServerOptions {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM (RSA, EC or PKCS8). */
  key: string;
}

export interface ServeOptions extends ServeOptionsBase<Omit<ConnectionInfo, 'request' | 'clientAddress'>> {
  /** Serve wss: with this certificate and key. */
  tls?: TlsServerOptions;
  /** Bytes of input a connection buffers before its socket is paused (the channel's queue). Default 64 KiB. */
  readBufferSize?: number;
}

export interface ConnectionInfo {
  /** The request head (method, target, headers) as the session validated it. */
  request: RequestHead;
  /** The peer's address, or the client's as a trusted proxy reported it (`trustedProxies`). */
  readonly clientAddress: string;
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
/** A handler of a server made with `streamMessages: true`: each message is a `{ type, stream }`. */
export type StreamedMessageHandler = (ws: WebSocketStream<StreamedMessage>, info: ConnectionInfo) => unknown;
export type WebSocketHandler = (ws: WebSocket, info: ConnectionInfo) => unknown;

export type CloseOptions = ServerCloseOptions;

export interface ServerAddress {
  hostname: string;
  port: number;
}

export interface WebSocketServer extends WebSocketServerBase {
  /** Resolves with the bound address (Bun listens synchronously: already resolved). */
  readonly ready: Promise<ServerAddress>;
  readonly hostname: string;
  readonly port: number;
  readonly address: ServerAddress;
  /** ws://host:port (or wss:), with IPv6 literals in brackets. */
  readonly url: string;
  /** The underlying Bun listener. */
  readonly listener: Bun.TCPSocketListener<SocketBinding>;
  [Symbol.asyncDispose](): Promise<void>;
}

export { DEFAULT_MAX_PENDING_HANDSHAKES };

type AdapterInfo = Omit<ConnectionInfo, 'request' | 'clientAddress'>;
/** Our own serve() options, not the session's. */
const ADAPTER_KEYS = ['tls', 'readBufferSize'] as const;

export function serve(options: ServeOptions & { webSocket: true }, handler: WebSocketHandler): WebSocketServer;
export function serve(options: ServeOptions & { streamMessages: true }, handler: StreamedMessageHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler | StreamedMessageHandler | WebSocketHandler): WebSocketServer {
  const core = new ServerCore<AdapterInfo>(coreOptionsOf(options, acceptOptionsOf(options, ADAPTER_KEYS)), handler as StreamHandler);
  const { hostname = '0.0.0.0', port = 0, tls, signal } = options;
  const streamOpts = options.readBufferSize !== undefined ? { readHighWaterMark: options.readBufferSize } : {};

  const onSocket = (socket: Bun.Socket<SocketBinding>): void => {
    const binding = new SocketBinding(streamOpts);
    binding.attach(socket);
    socket.setNoDelay?.(true);
    const conn: ServedConnection = binding.channel;
    if (tls) conn.secured = false;
    core.add(conn, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort ?? 0, socket });
  };
  // With a `handshake` handler Bun calls `open` at TCP accept instead of after the TLS handshake: a socket that
  // never finishes TLS is then a pending handshake like any other (admission caps, `handshakeTimeout`), and its
  // timeout is counted in `stats.tlsHandshakeTimeouts`. Without one, Bun holds such sockets where no limit applies.
  // A failed TLS handshake closes the socket (Bun), which ends the pending session.
  const onHandshake = (socket: Bun.Socket<SocketBinding>, success: boolean): void => {
    const conn: ServedConnection | undefined = socket.data?.channel;
    if (success && conn) conn.secured = true;
  };

  const listener = bunRuntime().listen<SocketBinding>({
    hostname,
    port,
    // The session half-closes after its close frame and keeps reading: Bun must not close on the peer's FIN.
    allowHalfOpen: true,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    socket: { ...socketHandlers, open: onSocket, ...(tls ? { handshake: onHandshake } : {}) },
  });
  const bound: ServerAddress = { hostname: listener.hostname, port: listener.port };

  const host = bound.hostname.includes(':') ? `[${bound.hostname}]` : bound.hostname;
  const own = { ready: Promise.resolve(bound), hostname: bound.hostname, port: bound.port, address: bound, url: `${tls ? 'wss' : 'ws'}://${host}:${bound.port}`, listener };
  return serverObject(core, own, async (reason) => {
    // Stops accepting and releases the port at once; open sockets stay until their close handshakes end.
    listener.stop(false);
    await core.close(reason);
    listener.stop(true);
  }, signal) as WebSocketServer;
}
