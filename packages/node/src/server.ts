/**
 * A standalone WebSocket server: a net (ws:) or tls (wss:) listener whose every connection is bound with
 * socketStreams() and handed to the session's accept(), which reads the request head, applies the policy and
 * answers 101 or the refusal. Accepted sessions go to the user's handler.
 *
 * Lifecycle bookkeeping is the only thing that lives here (the same behaviour as the session's ServerCore, which
 * the Deno and Bun adapters use; kept apart here because it is tuned for Node's idle memory per connection: no
 * closure or promise reaction per open session, see README "Memory per connection"):
 * - connections still in the opening handshake are capped (`maxPendingHandshakes`): beyond it a new connection
 *   is answered 503 and closed at once, so a flood of idle sockets cannot hold unbounded head buffers and timers;
 * - `close()` stops listening, aborts pending handshakes, closes every open session with 1001 (Going Away),
 *   waits for every socket to be gone (bounded: `closeTimeout` + 1 s, then destroyed), and resolves once the port
 *   is released;
 * - connections that did not become a WebSocket (refused, malformed, timed out, failed TLS) and handler failures
 *   go to `onError`.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  accept,
  acceptOptionsOf,
  wrapWebSocket,
  type AcceptOptions,
  type ServeOptionsBase,
  type ServerCloseOptions,
  type WebSocket,
  type WebSocketServerBase,
  type WebSocketStream,
} from '@streamsocket/session';
import { buildErrorResponse, type RequestHead } from '@streamsocket/handshake';
import { socketStreams } from './socket-streams.js';
import { goingAway } from './going-away.js';

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
 */
class Info implements ConnectionInfo {
  constructor(readonly request: RequestHead, readonly socket: net.Socket) {}
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
}

/** The open session of a served socket, so that its 'close' listener (shared) can forget it. */
const kSession = Symbol('streamsocket.session');
type ServedSocket = net.Socket & { [kSession]?: WebSocketStream };

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

export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;

const noop = (): void => {};

/** The options the session's accept() gets. */
export function acceptOptions(o: Omit<ServeOptions, 'signal'>): AcceptOptions {
  return acceptOptionsOf(o, ['tls', 'backlog']);
}

export function serve(options: ServeOptions & { webSocket: true }, handler: WebSocketHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler): WebSocketServer;
export function serve(options: ServeOptions, handler: StreamHandler | WebSocketHandler): WebSocketServer {
  const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
  if (!(maxPending >= 1)) throw new RangeError('maxPendingHandshakes must be >= 1');
  // Frozen: the session then resolves it once for every connection (one ResolvedOptions, not one each).
  const accOpts = Object.freeze(acceptOptions(options));
  const closeTimeout = accOpts.closeTimeout ?? 5000;
  const handshakeTimeout = accOpts.handshakeTimeout ?? 10_000;

  const pending = new Set<WebSocketStream>();
  /**
   * Sessions that opened, until their socket closes (a session ends before its socket: it closes the transport).
   * `connections` skips the ones already closed. Keyed off the socket's 'close' rather than `ws.closed` to spare
   * every connection a promise reaction and a closure.
   */
  const open = new Set<WebSocketStream>();
  /** Every socket accepted (raw TCP ones for TLS too), so close() can wait for and, if need be, destroy them. */
  const sockets = new Set<net.Socket>();
  let closing: Promise<void> | null = null;
  let closeReason = 'server shutting down';
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const onSocket = (socket: net.Socket): void => {
    if (closing) return void socket.destroy();
    if (pending.size >= maxPending) return refuseBusy(socket);
    socket.setNoDelay(true);
    const ws = accept(socketStreams(socket), accOpts);
    pending.add(ws);
    ws.opened.then(
      () => {
        pending.delete(ws);
        if (closing) return goingAway(ws, closeReason);
        if (!socket.closed) {
          // (a socket whose 'close' was already emitted has a closed session: nothing to track)
          open.add(ws);
          (socket as ServedSocket)[kSession] = ws;
          socket.on('close', forgetSession);
        }
        runHandler(ws, new Info(ws.request!, socket));
      },
      (e: unknown) => {
        pending.delete(ws);
        // Built only for a connection that failed: a served one never pays for it.
        if (options.onError) report(e, { request: ws.request, socket, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
      },
    );
  };

  const report = (e: unknown, info: FailedConnectionInfo): void => {
    try {
      options.onError?.(e, info);
    } catch {
      /* a throwing error hook must not break the server */
    }
  };
  const handlerFailed = (ws: WebSocketStream, info: ConnectionInfo, e: unknown): void => {
    report(e, info);
    goingAway(ws, 'internal error', 1011);
  };

  const runHandler = (ws: WebSocketStream, info: ConnectionInfo): void => {
    let r: unknown;
    try {
      r = options.webSocket ? (handler as WebSocketHandler)(wrapWebSocket(ws), info) : (handler as StreamHandler)(ws, info);
    } catch (e) {
      return handlerFailed(ws, info, e);
    }
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(noop, (e: unknown) => handlerFailed(ws, info, e));
  };

  const server = options.tls
    ? tls.createServer({ ...options.tls, handshakeTimeout: handshakeTimeout || 120_000, ALPNProtocols: ['http/1.1'] })
    : net.createServer();
  server.on(options.tls ? 'secureConnection' : 'connection', onSocket);
  // Shared by every socket ('close' is emitted once; `on` avoids once()'s per-socket wrapper).
  function forget(this: net.Socket): void {
    sockets.delete(this);
  }
  // On the socket the session runs on (the TLSSocket for wss:, not the raw one `forget` watches).
  function forgetSession(this: ServedSocket): void {
    const ws = this[kSession];
    if (ws !== undefined) open.delete(ws);
  }
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', forget);
    if (options.tls) s.on('error', noop); // raw socket of a TLS connection: errors surface on the TLSSocket
  });
  // A failed TLS handshake (bad client, scanner, timeout) is not our error to throw.
  if (options.tls) {
    server.on('tlsClientError', (e: Error, s: net.Socket) => {
      if (options.onError) report(e, { request: null, socket: s, remoteAddress: s.remoteAddress, remotePort: s.remotePort });
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
    if (o.reason !== undefined) closeReason = o.reason;
    closing = (async () => {
      const released = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      for (const ws of pending) ws.close();
      for (const ws of open) goingAway(ws, closeReason);
      const gone = Promise.all([...sockets].map((s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())))));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((r) => {
        timer = setTimeout(r, closeTimeout + 1000);
      });
      await Promise.race([gone, deadline]);
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
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
      return pending.size;
    },
    get connections() {
      let n = 0;
      for (const ws of open) if (ws.readyState !== 3) n++;
      return n;
    },
    server,
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

/** Over the pending-handshake cap: 503 on the raw socket, close, no session at all. */
function refuseBusy(socket: net.Socket): void {
  socket.on('error', noop);
  socket.end(buildErrorResponse(503, { headers: [['Retry-After', '1']] }));
  socket.resume(); // drain so the peer's FIN closes it; bounded below
  const t = setTimeout(() => socket.destroy(), 2000);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}
