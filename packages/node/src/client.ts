/**
 * Client side: `connect(url)` dials TCP or TLS, binds the socket with socketChannel() and hands the byte pair to
 * the session, which writes the upgrade request, validates the 101 and runs the connection (the session's
 * clientApi: one deadline from connect() to `opened` that covers the dial, and no socket outlives a failed
 * connect). `WebSocket` and `WebSocketStream` are the session's WHATWG classes bound to the same dialer.
 */
import type net from 'node:net';
import {
  channelDialer,
  clientApi,
  dialTarget,
  type ByteChannel,
  type ClientOptions,
  type ConnectFunction,
  type ProxyOption,
  type WebSocket as SessionWebSocket,
  type WebSocketConstructor,
  type WebSocketStream as SessionWebSocketStream,
  type WebSocketStreamConstructor,
} from '@streamsocket/session';
import { dial, type TlsClientOptions } from './dial.js';
import { dialViaProxy, nodeEnv } from './proxy-dial.js';
import { socketChannel } from './socket-channel.js';

/** Where connect() dials for a URL (the session's, re-exported). */
export { dialTarget };

export interface ConnectOptions extends ClientOptions<TlsClientOptions>, TlsClientOptions {
  /**
   * A proxy to tunnel through: `http://[user:pass@]host:port` (HTTP CONNECT), `https://...` (the same over TLS
   * to the proxy), `socks5://` / `socks5h://` (the proxy resolves the target's name); or `{ url, headers,
   * noProxy }`; or `'env'` for HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY (see the README); or `false`.
   * Default: direct, like `ws` and undici (`'env'` when NODE_USE_ENV_PROXY=1, Node's own switch for this).
   */
  proxy?: ProxyOption;
}

/** Options for the `WebSocket` and `WebSocketStream` classes: everything but what their constructors take. */
export type WebSocketOptions = Omit<ConnectOptions, 'protocols' | 'signal'>;

/** Dials `url` (through the proxy `options` name, if any) and binds the socket as a channel. */
export const dialStreams: (url: URL, options: ConnectOptions, signal: AbortSignal) => Promise<ByteChannel> = channelDialer<ConnectOptions, net.Socket>({
  env: nodeEnv,
  defaultProxy: () => (process.env.NODE_USE_ENV_PROXY === '1' ? 'env' : false),
  direct: dial,
  viaProxy: dialViaProxy,
  bind: (socket, o) => socketChannel(socket, o.readBufferSize !== undefined ? { readHighWaterMark: o.readBufferSize } : {}),
});

const api = clientApi<ConnectOptions>({ dialerOptions: ['ca', 'rejectUnauthorized', 'servername', 'tls'], dial: dialStreams });

/**
 * Opens a WebSocket to a ws: or wss: URL. Throws synchronously (SyntaxError/TypeError) for a bad URL,
 * subprotocol list, header or proxy; everything else is reported through `opened` (HandshakeError with the
 * status the server answered, TlsConnectError, a socket error, the abort reason, or the timeout) and `closed`.
 */
export const connect: ConnectFunction<ConnectOptions> = api.connect;

/**
 * A browser-compatible `WebSocket` constructor dialing with these options (TLS trust, headers, deflate,
 * limits ...): `const WS = createWebSocket({ ca }); new WS('wss://localhost:8443/', ['mqtt'])`.
 */
export const createWebSocket: (options?: WebSocketOptions) => WebSocketConstructor = api.createWebSocket;

/** `new WebSocket('ws://127.0.0.1:8080/path', ['mqtt'])`, with default options (Node's CA store for wss:). */
export const WebSocket: WebSocketConstructor = createWebSocket();
/** The instance type (the session's WHATWG WebSocket class). */
export type WebSocket = SessionWebSocket;

/**
 * A WHATWG `WebSocketStream` constructor dialing with these options: `new (createWebSocketStream({ ca }))(url,
 * { protocols, signal })`. Instances are the session's WebSocketStream (`instanceof` holds for both).
 */
export const createWebSocketStream: (options?: WebSocketOptions) => WebSocketStreamConstructor = api.createWebSocketStream;

/** `new WebSocketStream('ws://127.0.0.1:8080/', { protocols, signal })` over Node's net/tls, with default options. */
export const WebSocketStream: WebSocketStreamConstructor = createWebSocketStream();
/** The instance type (the session's WebSocketStream). */
export type WebSocketStream = SessionWebSocketStream;
