/**
 * Client side: `connect(url, options)` dials TCP/TLS with Bun.connect (with its `tls` options), binds the socket
 * (SocketBinding) and hands the byte pair to the session, which writes the upgrade request, validates the 101 and
 * runs the WebSocket. `WebSocket` is the session's browser-style class bound to the same dialer. Same API shape
 * as @streamsocket/node.
 *
 * One deadline covers everything up to `opened`: the session's handshake timer starts when connect() is called
 * and the dial is part of what it waits for, so `connectTimeout` bounds TCP + TLS + the HTTP exchange. When the
 * opening fails for any reason (timeout, abort, close() while connecting) the dial is aborted too, and a
 * connection that completes after that is closed at once: no socket outlives a failed connect.
 */
import {
  connectWith,
  createWebSocketClass,
  createWebSocketStreamClass,
  dialTarget,
  type ByteChannel,
  type ConnectOptions as SessionConnectOptions,
  type DialOptions as SessionDialOptions,
  type WebSocket as SessionWebSocket,
  type WebSocketConstructor,
  type WebSocketStream as SessionWebSocketStream,
  type WebSocketStreamConstructor,
  resolveProxy,
  validateProxyOption,
  type ProxyOption,
  type StreamedMessage,
} from '@streamsocket/session';
import { dial, type TlsClientOptions } from './dial.js';
import { bunEnv, dialViaProxy } from './proxy-dial.js';

/** Where connect() dials for a URL (the session's, re-exported). */
export { dialTarget };

export interface ConnectOptions extends SessionConnectOptions, TlsClientOptions {
  /**
   * ms for the whole opening: TCP connect, TLS handshake and the HTTP upgrade exchange. Default 10 000 (the
   * session's `handshakeTimeout`, which this sets). 0 disables.
   */
  connectTimeout?: number;
  /** Alias of `deflate`: offer permessage-deflate (RFC 7692). Default false. */
  permessageDeflate?: SessionConnectOptions['deflate'];
  /** Bytes of input a connection buffers before its socket is paused (the channel's queue). Default 64 KiB. */
  readBufferSize?: number;
  /**
   * A proxy to tunnel through: `http://[user:pass@]host:port` (HTTP CONNECT), `https://...` (the same over TLS
   * to the proxy), `socks5://` / `socks5h://` (the proxy resolves the target's name); or `{ url, headers,
   * noProxy }`; or `'env'`; or `false` for always direct. Default `'env'`: HTTPS_PROXY / HTTP_PROXY /
   * ALL_PROXY / NO_PROXY, as Bun's own fetch reads them.
   */
  proxy?: ProxyOption;
  /** TLS options for an `https:` proxy itself (the connection's own `ca` etc. apply to the target). */
  proxyTls?: TlsClientOptions;
}

interface ProxyRoute {
  option: ProxyOption | undefined;
  tls: TlsClientOptions;
}

function proxyRoute(o: ConnectOptions): ProxyRoute {
  validateProxyOption(o.proxy);
  return { option: o.proxy, tls: o.proxyTls ?? {} };
}

/** Options for the `WebSocket` class: everything but what its constructor takes. */
export type WebSocketOptions = Omit<ConnectOptions, 'protocols' | 'signal'>;

/** Splits our options into the session's (everything it knows) and the dialer's. */
function sessionOptions(o: ConnectOptions): SessionConnectOptions {
  const { ca: _ca, rejectUnauthorized: _ru, servername: _sn, clientCert: _cc, connectTimeout, permessageDeflate, readBufferSize: _hw, proxy: _px, proxyTls: _pt, ...rest } = o;
  const s: SessionConnectOptions = { ...rest };
  if (connectTimeout !== undefined) s.handshakeTimeout = connectTimeout;
  if (permessageDeflate !== undefined && s.deflate === undefined) s.deflate = permessageDeflate;
  return s;
}

function tlsOptions(o: ConnectOptions): TlsClientOptions & { readBufferSize?: number } {
  const t: TlsClientOptions & { readBufferSize?: number } = {};
  if (o.ca !== undefined) t.ca = o.ca;
  if (o.rejectUnauthorized !== undefined) t.rejectUnauthorized = o.rejectUnauthorized;
  if (o.servername !== undefined) t.servername = o.servername;
  if (o.clientCert !== undefined) t.clientCert = o.clientCert;
  if (o.readBufferSize !== undefined) t.readBufferSize = o.readBufferSize;
  return t;
}

/** Dials `url` and resolves with the socket bound as a byte pair. */
export async function dialStreams(
  url: URL,
  tls: TlsClientOptions & { readBufferSize?: number },
  signal: AbortSignal,
  route?: ProxyRoute,
): Promise<ByteChannel> {
  const hwm = tls.readBufferSize;
  const streams = hwm !== undefined ? { readHighWaterMark: hwm } : {};
  const proxy = resolveProxy(url, route?.option, bunEnv, 'env');
  const target = dialTarget(url);
  const b = proxy
    ? await dialViaProxy(proxy, target, { target: tls, proxy: route?.tls ?? {} }, signal, streams)
    : await dial(target, tls, signal, streams);
  return b.channel;
}

/**
 * Opens a WebSocket to a ws: or wss: URL. Returns the session's WebSocketStream at once: `opened` resolves to
 * `{ readable, writable, protocol, extensions }` after the 101, `closed` to `{ closeCode, reason }`. Throws
 * synchronously (SyntaxError/TypeError) for a bad URL, subprotocol list or header; everything else is reported
 * through `opened` (HandshakeError with the status the server answered, TlsConnectError, a connection error,
 * the abort reason, or the timeout) and `closed`.
 */
export function connect(url: string | URL, options: ConnectOptions & { streamMessages: true }): SessionWebSocketStream<StreamedMessage>;
export function connect(url: string | URL, options?: ConnectOptions): SessionWebSocketStream;
export function connect(url: string | URL, options: ConnectOptions = {}): SessionWebSocketStream<unknown> {
  const tls = tlsOptions(options);
  const route = proxyRoute(options);
  return connectWith((u, signal) => dialStreams(u, tls, signal, route), url, sessionOptions(options));
}

/**
 * A browser-compatible `WebSocket` class dialing with these options (TLS trust, headers, deflate, limits ...):
 * `const WS = createWebSocket({ ca }); new WS('wss://localhost:8443/', ['chat'])`.
 */
export function createWebSocket(options: WebSocketOptions = {}): WebSocketConstructor {
  const tls = tlsOptions(options);
  const route = proxyRoute(options);
  const dialer = (url: URL, d: SessionDialOptions): Promise<ByteChannel> => dialStreams(url, tls, d.signal, route);
  return createWebSocketClass(dialer, sessionOptions(options));
}

/** `new WebSocket('ws://127.0.0.1:8080/path', ['chat'])` over Bun's TCP/TLS, with default options. */
export const WebSocket: WebSocketConstructor = createWebSocket();
/** The instance type (the session's WHATWG WebSocket class). */
export type WebSocket = SessionWebSocket;

/**
 * A WHATWG `WebSocketStream` constructor dialing with these options: `new (createWebSocketStream({ ca }))(url,
 * { protocols, signal })`. Instances are the session's WebSocketStream (`instanceof` holds for both).
 */
export function createWebSocketStream(options: WebSocketOptions = {}): WebSocketStreamConstructor {
  const tls = tlsOptions(options);
  const route = proxyRoute(options);
  const dialer = (url: URL, d: SessionDialOptions): Promise<ByteChannel> => dialStreams(url, tls, d.signal, route);
  return createWebSocketStreamClass(dialer, sessionOptions(options));
}

/** `new WebSocketStream('ws://127.0.0.1:8080/', { protocols, signal })` over Bun's TCP/TLS, with default options. */
export const WebSocketStream: WebSocketStreamConstructor = createWebSocketStream();
/** The instance type (the session's WebSocketStream). */
export type WebSocketStream = SessionWebSocketStream;
