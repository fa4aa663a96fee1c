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
import { listeningFields, serveCore, serverObject } from '@streamsocket/session';
import type {
  FailedInfoOf, ListeningServer, PemKeyPair, ServedConnection, PeerInfo, ServeOptionsOf, ServeFunction, StreamedMessageHandlerOf, StreamHandlerOf, WebSocketHandlerOf,
} from '@streamsocket/session';
import { SocketBinding, socketHandlers } from './socket-channel.js';

/** Serve wss: with this certificate and key. */
export type TlsServerOptions = PemKeyPair;

export interface ServeOptions extends ServeOptionsOf<ConnectionInfo, TlsServerOptions> {
  /** Bytes of input a connection buffers before its socket is paused (the channel's queue). Default 64 KiB. */
  readBufferSize?: number;
}

export interface ConnectionInfo extends PeerInfo {
  /** The underlying Bun socket. Don't read or write it. */
  socket: Bun.Socket<SocketBinding>;
}

/** What `onError` learns about a connection: the request head is null when it failed before that was read. */
export type FailedConnectionInfo = FailedInfoOf<ConnectionInfo>;
export type StreamHandler = StreamHandlerOf<ConnectionInfo>;
/** A handler of a server made with `streamMessages: true`: each message is a `{ type, stream }`. */
export type StreamedMessageHandler = StreamedMessageHandlerOf<ConnectionInfo>;
export type WebSocketHandler = WebSocketHandlerOf<ConnectionInfo>;

export interface WebSocketServer extends ListeningServer<Bun.TCPSocketListener<SocketBinding>> {
  /** The underlying Bun listener. */
  readonly listener: Bun.TCPSocketListener<SocketBinding>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const serve: ServeFunction<ServeOptions, ConnectionInfo, WebSocketServer> = (
  options: ServeOptions,
  handler: StreamHandler | StreamedMessageHandler | WebSocketHandler,
): WebSocketServer => {
  const core = serveCore(options, handler);
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
  const own = listeningFields({ hostname: listener.hostname, port: listener.port }, !!tls, listener);
  return serverObject(core, own, async (reason) => {
    // Stops accepting and releases the port at once; open sockets stay until their close handshakes end.
    listener.stop(false);
    await core.close(reason);
    listener.stop(true);
  }, signal) as WebSocketServer;
};
