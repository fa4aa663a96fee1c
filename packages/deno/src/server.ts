/**
 * Server side: `serve(options, handler)` listens with Deno.listen / Deno.listenTls, binds every accepted
 * connection (connChannel) and hands it to the session's accept(), which reads the request head, applies the
 * policy (path, origins, protocols, deflate, onRequest ...) and answers 101 or the refusal. Each opened session
 * goes to `handler`. Same API shape as @streamsocket/node.
 *
 * What is Deno's lives here: listening, accepting, binding each connection, releasing the port. The rest is the
 * session's ServerCore, shared by the three adapters: connections still in the opening handshake are capped
 * (the admission policy: at `maxPendingHandshakes` the oldest pending one is dropped, per-address caps); a failing handler closes its session with 1011; `close()`
 * stops accepting, aborts pending handshakes, sends 1001 (Going Away) to every session, waits for every
 * connection to be gone (bounded: `closeTimeout` + 1 s, then destroyed), and resolves once the port is released.
 */
import { listeningFields, serveCore, serverObject } from '@streamsocket/session';
import type {
  FailedInfoOf, ListeningServer, PemKeyPair, PeerInfo, ServeOptionsOf, ServeFunction, StreamedMessageHandlerOf, StreamHandlerOf, WebSocketHandlerOf,
} from '@streamsocket/session';
import { connChannel } from './conn-channel.js';
import { isTlsConn } from './dial.js';

/** Serve wss: with this certificate and key. */
export type TlsServerOptions = PemKeyPair;

export interface ServeOptions extends ServeOptionsOf<ConnectionInfo, TlsServerOptions> {
  /** Bytes per socket read buffer. Default 64 KiB. */
  readBufferSize?: number;
}

export interface ConnectionInfo extends PeerInfo {
  /** The underlying connection (a TlsConn for wss:). Don't read or write it. */
  conn: Deno.TcpConn | Deno.TlsConn;
}

/** What `onError` learns about a connection: the request head is null when it failed before that was read. */
export type FailedConnectionInfo = FailedInfoOf<ConnectionInfo>;
export type StreamHandler = StreamHandlerOf<ConnectionInfo>;
/** A handler of a server made with `streamMessages: true`: each message is a `{ type, stream }`. */
export type StreamedMessageHandler = StreamedMessageHandlerOf<ConnectionInfo>;
export type WebSocketHandler = WebSocketHandlerOf<ConnectionInfo>;

export interface WebSocketServer extends ListeningServer<Deno.TcpListener | Deno.TlsListener> {
  /** The underlying Deno listener (a TlsListener for wss:). */
  readonly listener: Deno.TcpListener | Deno.TlsListener;
  [Symbol.asyncDispose](): Promise<void>;
}

export const serve: ServeFunction<ServeOptions, ConnectionInfo, WebSocketServer> = (
  options: ServeOptions,
  handler: StreamHandler | StreamedMessageHandler | WebSocketHandler,
): WebSocketServer => {
  const core = serveCore(options, handler);
  const { hostname = '0.0.0.0', port = 0, tls, signal } = options;
  const streamOpts = options.readBufferSize !== undefined ? { readBufferSize: options.readBufferSize } : {};
  const listener: Deno.TcpListener | Deno.TlsListener = tls
    ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key, transport: 'tcp', alpnProtocols: ['http/1.1'] })
    : Deno.listen({ hostname, port, transport: 'tcp' });
  let closing = false;

  const acceptLoop = (async (): Promise<void> => {
    for (;;) {
      let conn: Deno.TcpConn | Deno.TlsConn;
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
      // Frames go out whole: Nagle would only add latency. (A TLS connection has no such switch in Deno.)
      if (!isTlsConn(conn)) conn.setNoDelay(true);
      core.add(connChannel(conn, streamOpts), { remoteAddress: conn.remoteAddr.hostname, remotePort: conn.remoteAddr.port, conn });
    }
  })();

  const own = listeningFields({ hostname: listener.addr.hostname, port: listener.addr.port }, !!tls, listener);
  return serverObject(core, own, async (reason) => {
    closing = true;
    try {
      listener.close();
    } catch {
      /* already closed */
    }
    // The port is released once the pending accept() has been rejected (see Deno.Listener.close).
    await acceptLoop;
    await core.close(reason);
  }, signal) as WebSocketServer;
};
