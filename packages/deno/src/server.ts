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
import {
  acceptOptionsOf,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  ServerCore,
  coreOptionsOf,
  serverObject,
  type ServeOptionsBase,
  type ServerCloseOptions,
  type WebSocket,
  type WebSocketServerBase,
  type WebSocketStream,
  type StreamedMessage,
} from '@streamsocket/session';
import type { RequestHead } from '@streamsocket/handshake';
import { connChannel } from './conn-channel.js';
import { isTlsConn } from './dial.js';

export interface TlsServerOptions {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM (RSA, EC or PKCS8). */
  key: string;
}

export interface ServeOptions extends ServeOptionsBase<Omit<ConnectionInfo, 'request' | 'clientAddress'>> {
  /** Serve wss: with this certificate and key. */
  tls?: TlsServerOptions;
  /** Bytes per socket read buffer. Default 64 KiB. */
  readBufferSize?: number;
}

export interface ConnectionInfo {
  /** The request head (method, target, headers) as the session validated it. */
  request: RequestHead;
  /** The peer's address, or the client's as a trusted proxy reported it (`trustedProxies`). */
  readonly clientAddress: string;
  remoteAddress: string;
  remotePort: number;
  /** The underlying connection (a TlsConn for wss:). Don't read or write it. */
  conn: Deno.TcpConn | Deno.TlsConn;
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
  /** Resolves with the bound address (Deno listens synchronously: already resolved). */
  readonly ready: Promise<ServerAddress>;
  readonly hostname: string;
  readonly port: number;
  readonly address: ServerAddress;
  /** ws://host:port (or wss:), with IPv6 literals in brackets. */
  readonly url: string;
  /** The underlying Deno listener (a TlsListener for wss:). */
  readonly listener: Deno.TcpListener | Deno.TlsListener;
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
  const streamOpts = options.readBufferSize !== undefined ? { readBufferSize: options.readBufferSize } : {};
  const listener: Deno.TcpListener | Deno.TlsListener = tls
    ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key, transport: 'tcp', alpnProtocols: ['http/1.1'] })
    : Deno.listen({ hostname, port, transport: 'tcp' });
  const bound: ServerAddress = { hostname: listener.addr.hostname, port: listener.addr.port };
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

  const host = bound.hostname.includes(':') ? `[${bound.hostname}]` : bound.hostname;
  const own = { ready: Promise.resolve(bound), hostname: bound.hostname, port: bound.port, address: bound, url: `${tls ? 'wss' : 'ws'}://${host}:${bound.port}`, listener };
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
}
