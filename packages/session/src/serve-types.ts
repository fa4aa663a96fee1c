/**
 * The public types of every adapter's serve(), written once: each adapter instantiates them with its own
 * connection details (its socket or connection and the peer's address), its TLS options and its listener, and
 * exports the result under its own names (ServeOptions, ConnectionInfo, StreamHandler, WebSocketServer ...).
 */
import type { RequestHead } from '@streamsocket/handshake';
import type { StreamedMessage } from './message-stream.js';
import { acceptOptionsOf, coreOptionsOf, ServerCore, type ServedStreamHandler, type ServeOptionsBase, type WebSocketServerBase } from './server-core.js';
import type { WebSocketStream } from './websocket-stream.js';
import type { WebSocket } from './websocket.js';

/** What every handler learns about its connection; an adapter's ConnectionInfo adds its peer address and socket. */
export interface ServedInfo {
  /** The request head (method, target, headers) as the session validated it. */
  request: RequestHead;
  /** The peer's address, or the client's as a trusted proxy reported it (`trustedProxies`). */
  readonly clientAddress: string;
}

/** A ConnectionInfo whose adapter reads the peer's address once, at accept (Deno, Bun). */
export interface PeerInfo extends ServedInfo {
  remoteAddress: string;
  remotePort: number;
}

/** The adapter's own part of a ConnectionInfo `C`: what it knows before the request head was read. */
export type AdapterInfoOf<C extends ServedInfo> = Omit<C, 'request' | 'clientAddress'>;

/** What `onError` learns about a connection `C`: the request head is null when it failed before that was read. */
export type FailedInfoOf<C extends ServedInfo> = Omit<C, 'request'> & { request: RequestHead | null };

/** The handler of a server: one WebSocketStream per opened session. */
export type StreamHandlerOf<C extends ServedInfo> = (ws: WebSocketStream, info: C) => unknown;
/** A handler of a server made with `streamMessages: true`: each message is a `{ type, stream }`. */
export type StreamedMessageHandlerOf<C extends ServedInfo> = (ws: WebSocketStream<StreamedMessage>, info: C) => unknown;
/** A handler of a server made with `webSocket: true`: one WHATWG WebSocket per opened session. */
export type WebSocketHandlerOf<C extends ServedInfo> = (ws: WebSocket, info: C) => unknown;

/**
 * An adapter's serve(options, handler): listens, and hands `handler` every opened session, as a WHATWG WebSocket
 * with `webSocket: true`, as a WebSocketStream of `{ type, stream }` messages with `streamMessages: true`, else as a
 * WebSocketStream. `O` is the adapter's ServeOptions, `C` its ConnectionInfo, `S` its WebSocketServer.
 */
export interface ServeFunction<O, C extends ServedInfo, S> {
  (options: O & { webSocket: true }, handler: WebSocketHandlerOf<C>): S;
  (options: O & { streamMessages: true }, handler: StreamedMessageHandlerOf<C>): S;
  (options: O, handler: StreamHandlerOf<C>): S;
}

/** An adapter's serve() options: the session's (ServeOptionsBase) for its ConnectionInfo `C`, and its TLS options `T`. */
export interface ServeOptionsOf<C extends ServedInfo, T> extends ServeOptionsBase<AdapterInfoOf<C>> {
  /** Serve wss: with this certificate and key. */
  tls?: T;
  /** Bytes of input a connection buffers (each adapter documents how it reads). Default 64 KiB. */
  readBufferSize?: number;
}

/** The options ServeOptionsOf adds to the session's: the adapter's, not accept()'s. */
const ADAPTER_KEYS = ['tls', 'readBufferSize'];

/**
 * The ServerCore of an adapter's serve(options, handler): its options are `options` but the adapter's own (`tls`,
 * `readBufferSize`, and any `moreKeys`).
 */
export function serveCore<C extends ServedInfo>(
  options: ServeOptionsOf<C, unknown>,
  handler: StreamHandlerOf<C> | StreamedMessageHandlerOf<C> | WebSocketHandlerOf<C>,
  moreKeys: readonly string[] = [],
): ServerCore<AdapterInfoOf<C>> {
  const adapterKeys = moreKeys.length === 0 ? ADAPTER_KEYS : [...ADAPTER_KEYS, ...moreKeys];
  // The core hands the handler the adapter's info with `request` and `clientAddress` set: a C.
  return new ServerCore<AdapterInfoOf<C>>(coreOptionsOf(options, acceptOptionsOf(options, adapterKeys)), handler as ServedStreamHandler<AdapterInfoOf<C>>);
}

/** A certificate and its key, the TLS options of a server whose runtime takes PEM strings. */
export interface PemKeyPair {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM (RSA, EC or PKCS8). */
  key: string;
}

/** The address a server listens on. */
export interface ServerAddress {
  hostname: string;
  port: number;
}

/**
 * The server of an adapter whose runtime binds its listener synchronously (Deno, Bun), with its listener `L`.
 * The adapter adds `Symbol.asyncDispose` (see WebSocketServerBase).
 */
export interface ListeningServer<L> extends WebSocketServerBase {
  /** Resolves with the bound address (the runtime listens synchronously: already resolved). */
  readonly ready: Promise<ServerAddress>;
  readonly hostname: string;
  readonly port: number;
  readonly address: ServerAddress;
  /** ws://host:port (or wss:), with IPv6 literals in brackets. */
  readonly url: string;
  /** The underlying listener. */
  readonly listener: L;
}

/** A ListeningServer's own fields, from the address its listener bound. */
export function listeningFields<L>(bound: ServerAddress, secure: boolean, listener: L): Omit<ListeningServer<L>, keyof WebSocketServerBase> {
  const host = bound.hostname.includes(':') ? `[${bound.hostname}]` : bound.hostname;
  return { ready: Promise.resolve(bound), hostname: bound.hostname, port: bound.port, address: bound, url: `${secure ? 'wss' : 'ws'}://${host}:${bound.port}`, listener };
}
