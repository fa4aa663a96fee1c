/**
 * A standalone WebSocket server: a net (ws:) or tls (wss:) listener whose every connection is bound with
 * socketStreams() and handed to the session's ServerCore, like the Deno and Bun adapters: accept() reads the
 * request head, applies the policy and answers 101 or the refusal; connections still in the opening handshake
 * are capped (`maxPendingHandshakes`: beyond it, 503 and close); a failing handler closes its session with 1011;
 * `close()` stops listening, aborts pending handshakes, sends 1001 (Going Away) to every session, waits for every
 * socket to be gone (bounded: `closeTimeout` + 1 s, then destroyed), and resolves once the port is released.
 *
 * What is Node's lives here: listening, TLS (its handshake timeout, and reporting a failed TLS handshake to
 * `onError`), binding each socket, releasing the port. The core tracks each socket through its binding's 'close'
 * (ServedConnection.track): no closure or promise reaction per open connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  acceptOptionsOf,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  ServerCore,
  type AcceptOptions,
  type ServeOptionsBase,
  type ServerCloseOptions,
  type WebSocket,
  type WebSocketServerBase,
  type WebSocketStream,
} from '@streamsocket/session';
import type { RequestHead } from '@streamsocket/handshake';
import { socketStreams } from './socket-streams.js';

export interface TlsServerOptions extends tls.TlsOptions {
  /** PEM certificate chain. */
  cert: string | Buffer | Array<string | Buffer>;
  /** PEM private key. */
  key: string | Buffer | Array<string | Buffer>;
}

export interface ServeOptions extends ServeOptionsBase<Omit<ConnectionInfo, 'request'>> {
  /** Serve wss: with this certificate and key (any other tls.createServer option may be added). */
  tls?: TlsServerOptions;
  /** listen() backlog. Default: Node's (511). */
  backlog?: number;
}

export interface ConnectionInfo {
  /** The request head (method, target, headers) as the session validated it. */
  request: RequestHead;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The underlying socket (a tls.TLSSocket for wss:). Don't read or write it. */
  socket: net.Socket;
}

/**
 * ConnectionInfo with the peer's address read from the socket only when asked: Node caches the getpeername()
 * result on the socket (an object and two strings), which an idle server should not pay for every connection.
 * `request` is set by the core (null until the head was read).
 */
class Info {
  request: RequestHead | null = null;
  constructor(readonly socket: net.Socket) {}
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
}

type AdapterInfo = Omit<ConnectionInfo, 'request'>;
/** Our own serve() options, not the session's. */
const ADAPTER_KEYS = ['tls', 'backlog'] as const;

export type StreamHandler = (ws: WebSocketStream, info: ConnectionInfo) => unknown;
export type WebSocketHandler = (ws: WebSocket, info: ConnectionInfo) => unknown;

export type CloseOptions = ServerCloseOptions;

/** What `onError` learns about a connection: the request head is null when no session opened. */
export interface FailedConnectionInfo extends Omit<ConnectionInfo, 'request'> {
  request: RequestHead | null;
}

export interface WebSocketServer extends WebSocketServerBase {
  /** Resolves once listening (with the bound address); rejects if listen() failed (e.g. EADDRINUSE). */
  readonly ready: Promise<net.AddressInfo>;
  /** The bound port once listening (before that, the requested one). */
  readonly port: number;
  /** The bound address once listening, else null. */
  readonly address: net.AddressInfo | null;
  /** ws://host:port (or wss:) once listening, with IPv6 literals in brackets (before that, with the requested port). */
  readonly url: string;
  /** The underlying net.Server / tls.Server. */
  readonly server: net.Server;
  [Symbol.asyncDispose](): Promise<void>;
}

export { DEFAULT_MAX_PENDING_HANDSHAKES };

const noop = (): void => {};

/** The options the session's accept() gets. */
export function acceptOptions(o: Omit<ServeOptions, 'signal'>): AcceptOptions {
  return acceptOptionsOf(o, ADAPTER_KEYS);
}

export function serve(options: ServeOptions & { webSocket: true }, handler: WebSocketHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler | WebSocketHandler): WebSocketServer {
  const accept = acceptOptions(options);
  const core = new ServerCore<AdapterInfo>(
    { accept, maxPendingHandshakes: options.maxPendingHandshakes, webSocket: options.webSocket, onError: options.onError, topics: options.topics },
    handler as StreamHandler,
  );
  const handshakeTimeout = accept.handshakeTimeout ?? 10_000;
  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const server = options.tls
    ? tls.createServer({ ...options.tls, handshakeTimeout: handshakeTimeout || 120_000, ALPNProtocols: ['http/1.1'] })
    : net.createServer();
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    if (core.closing) return void socket.destroy();
    socket.setNoDelay(true);
    core.add(socketStreams(socket), new Info(socket));
  });
  /** TLS only: the raw sockets (those in their TLS handshake are not the core's yet); close() destroys what is left. */
  const handshaking = new Set<net.Socket>();
  function forget(this: net.Socket): void {
    handshaking.delete(this);
  }
  if (options.tls) {
    server.on('connection', (s: net.Socket) => {
      handshaking.add(s);
      s.on('close', forget);
      s.on('error', noop); // errors surface on the TLSSocket
    });
    // A failed TLS handshake (bad client, scanner, timeout) is not our error to throw.
    server.on('tlsClientError', (e: Error, s: net.Socket) => {
      if (options.onError) core.report(e, { request: null, socket: s, remoteAddress: s.remoteAddress, remotePort: s.remotePort });
      s.destroy();
    });
  }

  let address: net.AddressInfo | null = null;
  const ready = new Promise<net.AddressInfo>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    const listenOpts: net.ListenOptions = { port: options.port ?? 0 };
    if (options.hostname !== undefined) listenOpts.host = options.hostname;
    if (options.backlog !== undefined) listenOpts.backlog = options.backlog;
    server.listen(listenOpts, () => {
      server.off('error', onError);
      address = server.address() as net.AddressInfo;
      resolve(address);
    });
  });
  ready.catch(noop);
  // Later server errors (rare after listening: EMFILE on accept) must not crash the process.
  ready.then(() => server.on('error', noop), noop);

  const close = (o: CloseOptions = {}): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      const released = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      await core.close(o.reason);
      for (const s of handshaking) s.destroy();
      await released;
      resolveClosed();
    })();
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });

  return {
    ready,
    get port() {
      return address?.port ?? options.port ?? 0;
    },
    get address() {
      return address;
    },
    get url() {
      const host = address?.address ?? options.hostname ?? 'localhost';
      return `${options.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${address?.port ?? options.port ?? 0}`;
    },
    closed,
    get pendingHandshakes() {
      return core.pendingHandshakes;
    },
    get connections() {
      return core.connections;
    },
    get clients() {
      return core.clients;
    },
    topics: core.topics,
    publish: (topic, data, o) => core.publish(topic, data, o),
    server,
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
