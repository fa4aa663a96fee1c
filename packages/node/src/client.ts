/**
 * Client side: `connect(url)` dials TCP or TLS, binds the socket with socketChannel() and hands the byte pair to
 * the session, which writes the upgrade request, validates the 101 and runs the connection. `WebSocket` is the
 * session's browser-style class bound to the same dialer.
 *
 * One deadline covers everything up to `opened`: the session's handshake timer starts when connect() is called
 * and the dial is part of what it waits for, so `connectTimeout` bounds DNS + TCP + TLS + the HTTP exchange. When
 * the handshake fails for any reason (timeout, abort, close() while connecting) the dial is aborted too, so no
 * socket outlives a failed connect.
 */
import {
  connectWith,
  createWebSocketClass,
  createWebSocketStreamClass,
  dialTarget,
  type ConnectOptions as SessionConnectOptions,
  type ByteChannel,
  type WebSocketStream as SessionWebSocketStream,
  type WebSocketStreamConstructor,
  type WebSocketConstructor,
  type DialOptions as SessionDialOptions,
  type WebSocket as SessionWebSocket,
  resolveProxy,
  validateProxyOption,
  type ProxyOption,
  type StreamedMessage,
} from '@streamsocket/session';
import { dial, type TlsClientOptions } from './dial.js';
import { dialViaProxy, nodeEnv } from './proxy-dial.js';
import { socketChannel } from './socket-channel.js';

/** Where connect() dials for a URL (the session's, re-exported). */
export { dialTarget };

export interface ConnectOptions extends SessionConnectOptions, TlsClientOptions {
  /**
   * ms for the whole opening: DNS, TCP connect, TLS handshake and the HTTP upgrade exchange. Default 10 000
   * (the session's `handshakeTimeout`, which this sets). 0 disables.
   */
  connectTimeout?: number;
  /** Alias of `deflate`: offer permessage-deflate (RFC 7692). Default false. */
  permessageDeflate?: SessionConnectOptions['deflate'];
  /** Bytes of input a connection buffers before its socket is paused (the channel's queue). Default 64 KiB. */
  readBufferSize?: number;
  /**
   * A proxy to tunnel through: `http://[user:pass@]host:port` (HTTP CONNECT), `https://...` (the same over TLS
   * to the proxy), `socks5://` / `socks5h://` (the proxy resolves the target's name); or `{ url, headers,
   * noProxy }`; or `'env'` for HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY (see the README); or `false`.
   * Default: direct, like `ws` and undici (`'env'` when NODE_USE_ENV_PROXY=1, Node's own switch for this).
   */
  proxy?: ProxyOption;
  /** TLS options for an `https:` proxy itself (the connection's own `ca` etc. apply to the target). */
  proxyTls?: TlsClientOptions;
}

/** Node's default for `proxy`: off, unless NODE_USE_ENV_PROXY=1 asks for the environment. */
function defaultProxy(): ProxyOption {
  return process.env.NODE_USE_ENV_PROXY === '1' ? 'env' : false;
}

interface ProxyRoute {
  option: ProxyOption | undefined;
  tls: TlsClientOptions;
}

function proxyRoute(o: ConnectOptions): ProxyRoute {
  validateProxyOption(o.proxy);
  return { option: o.proxy, tls: o.proxyTls ?? {} };
}

/** Splits our options into the session's (everything it knows) and the dialer's (TLS). */
function sessionOptions(o: ConnectOptions): SessionConnectOptions {
  const { ca: _ca, rejectUnauthorized: _ru, servername: _sn, tls: _tls, connectTimeout, permessageDeflate, readBufferSize: _rb, proxy: _px, proxyTls: _pt, ...rest } = o;
  const s: SessionConnectOptions = { ...rest };
  if (connectTimeout !== undefined) s.handshakeTimeout = connectTimeout;
  if (permessageDeflate !== undefined && s.deflate === undefined) s.deflate = permessageDeflate;
  return s;
}

function tlsOptions(o: ConnectOptions): TlsClientOptions & { readBufferSize?: number } {
  const t: TlsClientOptions & { readBufferSize?: number } = {};
  if (o.readBufferSize !== undefined) t.readBufferSize = o.readBufferSize;
  if (o.ca !== undefined) t.ca = o.ca;
  if (o.rejectUnauthorized !== undefined) t.rejectUnauthorized = o.rejectUnauthorized;
  if (o.servername !== undefined) t.servername = o.servername;
  if (o.tls !== undefined) t.tls = o.tls;
  return t;
}

/** Dials `url` and resolves with the socket bound as a byte pair. */
export async function dialStreams(url: URL, tls: TlsClientOptions & { readBufferSize?: number }, signal: AbortSignal, route?: ProxyRoute): Promise<ByteChannel> {
  const proxy = resolveProxy(url, route?.option, nodeEnv, defaultProxy());
  const target = dialTarget(url);
  const socket = proxy
    ? await dialViaProxy(proxy, target, { target: tls, proxy: route?.tls ?? {} }, signal)
    : await dial(target, tls, signal);
  return socketChannel(socket, tls.readBufferSize !== undefined ? { readHighWaterMark: tls.readBufferSize } : {});
}

/**
 * Opens a WebSocket to a ws: or wss: URL. Throws synchronously (SyntaxError/TypeError) for a bad URL,
 * subprotocol list or header; everything else is reported through `opened` (HandshakeError with the status
 * the server answered, TlsConnectError, a socket error, the abort reason, or the timeout) and `closed`.
 */
export function connect(url: string | URL, options: ConnectOptions & { streamMessages: true }): SessionWebSocketStream<StreamedMessage>;
export function connect(url: string | URL, options?: ConnectOptions): SessionWebSocketStream;
export function connect(url: string | URL, options: ConnectOptions = {}): SessionWebSocketStream<unknown> {
  const tls = tlsOptions(options);
  const route = proxyRoute(options);
  return connectWith((u, signal) => dialStreams(u, tls, signal, route), url, sessionOptions(options));
}

/**
 * A browser-compatible `WebSocket` constructor dialing with these options (TLS trust, headers, deflate,
 * limits ...): `const WS = createWebSocket({ ca }); new WS('wss://localhost:8443/', ['mqtt'])`.
 */
export function createWebSocket(options: Omit<ConnectOptions, 'protocols' | 'signal'> = {}): WebSocketConstructor {
  const tls = tlsOptions(options);
  const route = proxyRoute(options);
  const dialer = (url: URL, d: SessionDialOptions): Promise<ByteChannel> => dialStreams(url, tls, d.signal, route);
  return createWebSocketClass(dialer, sessionOptions(options));
}

/** `new WebSocket('ws://127.0.0.1:8080/path', ['mqtt'])`, with default options (Node's CA store for wss:). */
export const WebSocket: WebSocketConstructor = createWebSocket();
/** The instance type (the session's WHATWG WebSocket class). */
export type WebSocket = SessionWebSocket;

/**
 * A WHATWG `WebSocketStream` constructor dialing with these options: `new (createWebSocketStream({ ca }))(url,
 * { protocols, signal })`. Instances are the session's WebSocketStream (`instanceof` holds for both).
 */
export function createWebSocketStream(options: Omit<ConnectOptions, 'protocols' | 'signal'> = {}): WebSocketStreamConstructor {
  const tls = tlsOptions(options);
  const route = proxyRoute(options);
  const dialer = (url: URL, d: SessionDialOptions): Promise<ByteChannel> => dialStreams(url, tls, d.signal, route);
  return createWebSocketStreamClass(dialer, sessionOptions(options));
}

/** `new WebSocketStream('ws://127.0.0.1:8080/', { protocols, signal })` over Node's net/tls, with default options. */
export const WebSocketStream: WebSocketStreamConstructor = createWebSocketStream();
/** The instance type (the session's WebSocketStream). */
export type WebSocketStream = SessionWebSocketStream;
