/**
 * A standalone WebSocket server: a net (ws:) or tls (wss:) listener whose every connection is bound with
 * socketChannel() and handed to the session's ServerCore, like the Deno and Bun adapters: accept() reads the
 * request head, applies the policy and answers 101 or the refusal; connections still in the opening handshake
 * are admitted by the core's admission policy (at `maxPendingHandshakes` the oldest pending one is dropped; per-
 * address caps; trusted proxies); a failing handler closes its session with 1011;
 * `close()` stops listening, aborts pending handshakes, sends 1001 (Going Away) to every session, waits for every
 * socket to be gone (bounded: `closeTimeout` + 1 s, then destroyed), and resolves once the port is released.
 *
 * What is Node's lives here: listening, TLS (its handshake timeout, counted in `stats.tlsHandshakeTimeouts`, and
 * reporting a failed TLS handshake to `onError`; a TLS connection is admitted at TCP accept, so a TLS handshake in
 * progress is a pending handshake that the policy may drop), binding each socket, releasing the port. The core tracks each socket through its binding's 'close'
 * (ServedConnection.track): no closure or promise reaction per open connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  acceptOptionsOf,
  DROPPED,
  ServerCore,
  coreOptionsOf,
  serverObject,
  type Admitted,
  type AcceptOptions,
  type AdapterInfoOf,
  type FailedInfoOf,
  type ServedInfo,
  type ServeOptionsOf,
  type ServeFunction,
  type StreamedMessageHandlerOf,
  type StreamHandlerOf,
  type WebSocketHandlerOf,
  type WebSocketServerBase,
} from '@streamsocket/session';
import type { RequestHead } from '@streamsocket/handshake';
import { socketChannel } from './socket-channel.js';

/** serve()'s `tls`: a certificate and its key, and any other tls.createServer option. */
export interface TlsServerOptions extends tls.TlsOptions {
  /** PEM certificate chain. */
  cert: string | Buffer | Array<string | Buffer>;
  /** PEM private key. */
  key: string | Buffer | Array<string | Buffer>;
}

export interface ServeOptions extends ServeOptionsOf<ConnectionInfo, TlsServerOptions> {
  /** listen() backlog. Default 4096 (see DEFAULT_BACKLOG: a full accept queue drops SYNs). */
  backlog?: number;
  /** Bytes of input a connection buffers before its socket is paused (the channel's queue). Default 64 KiB. */
  readBufferSize?: number;
}

export interface ConnectionInfo extends ServedInfo {
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
  clientAddress = '';
  constructor(readonly socket: net.Socket) {}
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
}

/** Our own serve() options, not the session's. */
const ADAPTER_KEYS = ['tls', 'backlog', 'readBufferSize'] as const;

export type StreamHandler = StreamHandlerOf<ConnectionInfo>;
/** A handler of a server made with `streamMessages: true`: each message is a `{ type, stream }`. */
export type StreamedMessageHandler = StreamedMessageHandlerOf<ConnectionInfo>;
export type WebSocketHandler = WebSocketHandlerOf<ConnectionInfo>;
/** What `onError` learns about a connection: the request head is null when no session opened. */
export type FailedConnectionInfo = FailedInfoOf<ConnectionInfo>;

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

const noop = (): void => {};

/**
 * listen() backlog: connections the kernel completed and queues until we accept them (Linux caps it at
 * net.core.somaxconn, 4096 by default). With the queue full the kernel drops new SYNs and a client retries only
 * after a second, so the queue must absorb the bursts of a crowd of reconnecting attackers; with Node's own
 * default (511) clients waited over a second in the attack tests.
 */
const DEFAULT_BACKLOG = 4096;

/** On a TLS connection's raw TCP socket: its admission taken at TCP accept (null: refused). */
const kAdmitted = Symbol('streamsocket.admitted');
type RawSocket = net.Socket & { [kAdmitted]?: Admitted | null };
/** The TCP socket under a server-side TLSSocket (Node's own `_parent` link). */
const rawOf = (s: net.Socket): RawSocket | undefined => (s as net.Socket & { _parent?: net.Socket })._parent as RawSocket | undefined;

/** The options the session's accept() gets. */
export function acceptOptions(o: Omit<ServeOptions, 'signal'>): AcceptOptions {
  return acceptOptionsOf(o, ADAPTER_KEYS);
}

export const serve: ServeFunction<ServeOptions, ConnectionInfo, WebSocketServer> = (
  options: ServeOptions,
  handler: StreamHandler | StreamedMessageHandler | WebSocketHandler,
): WebSocketServer => {
  const accept = acceptOptions(options);
  const channelOpts = options.readBufferSize !== undefined ? { readHighWaterMark: options.readBufferSize } : {};
  const core = new ServerCore<AdapterInfoOf<ConnectionInfo>>(coreOptionsOf(options, accept), handler as StreamHandler);
  const handshakeTimeout = accept.handshakeTimeout ?? 10_000;

  const server = options.tls
    ? tls.createServer({ ...options.tls, handshakeTimeout: handshakeTimeout || 120_000, ALPNProtocols: ['http/1.1'] })
    : net.createServer();
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    if (core.closing) return void socket.destroy();
    let early: Admitted | null | undefined;
    if (options.tls) {
      early = rawOf(socket)?.[kAdmitted];
      if (early === null || early?.dropped) return void socket.destroy(); // refused or dropped at TCP accept
    }
    socket.setNoDelay(true);
    core.add(socketChannel(socket, channelOpts), new Info(socket), undefined, early);
  });
  /** TLS only: the raw sockets (those in their TLS handshake are not the core's yet); close() destroys what is left. */
  const handshaking = new Set<net.Socket>();
  function forget(this: RawSocket): void {
    handshaking.delete(this);
    const a = this[kAdmitted];
    if (a) core.leave(a); // (a no-op once its handshake settled)
  }
  if (options.tls) {
    server.on('connection', (s: RawSocket) => {
      handshaking.add(s);
      s.on('close', forget);
      s.on('error', noop); // errors surface on the TLSSocket
      // Admitted now, before its TLS handshake: a peer that never finishes it holds a pending slot the policy can
      // give to a newer connection, instead of sitting outside every cap until the TLS timeout.
      s[kAdmitted] = core.admitEarly(s.remoteAddress ?? '', () => s.destroy());
    });
    // A failed TLS handshake (bad client, scanner, timeout) is not our error to throw.
    server.on('tlsClientError', (e: Error & { code?: string }, s: net.Socket) => {
      const a = rawOf(s)?.[kAdmitted];
      if (a?.dropped) e = DROPPED[a.dropped];
      else if (e.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') core.stats.tlsHandshakeTimeouts++;
      if (options.onError) core.report(e, { request: null, clientAddress: s.remoteAddress ?? '', socket: s, remoteAddress: s.remoteAddress, remotePort: s.remotePort });
      s.destroy();
    });
  }

  let address: net.AddressInfo | null = null;
  const ready = new Promise<net.AddressInfo>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    const listenOpts: net.ListenOptions = { port: options.port ?? 0 };
    if (options.hostname !== undefined) listenOpts.host = options.hostname;
    listenOpts.backlog = options.backlog ?? DEFAULT_BACKLOG;
    server.listen(listenOpts, () => {
      server.off('error', onError);
      address = server.address() as net.AddressInfo;
      resolve(address);
    });
  });
  ready.catch(noop);
  // Later server errors (rare after listening: EMFILE on accept) must not crash the process.
  ready.then(() => server.on('error', noop), noop);

  return serverObject(core, {
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
    server,
  }, async (reason) => {
    const released = new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
    await core.close(reason);
    for (const s of handshaking) s.destroy();
    await released;
  }, options.signal) as WebSocketServer;
};
