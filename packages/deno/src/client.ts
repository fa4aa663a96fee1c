/**
 * Client side: `connect(url, options)` dials TCP/TLS with Deno.connect / Deno.connectTls, binds the connection
 * (connChannel) and hands the byte pair to the session, which writes the upgrade request, validates the 101 and
 * runs the WebSocket (the session's clientApi: one deadline from connect() to `opened` that covers the dial, and
 * no connection outlives a failed connect). Same API shape as @streamsocket/node.
 */
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
import { connChannel } from './conn-channel.js';
import { dial, type TlsClientOptions } from './dial.js';
import { denoEnv, dialViaProxy } from './proxy-dial.js';

/** Where connect() dials for a URL (the session's, re-exported). */
export { dialTarget };

export interface ConnectOptions extends ClientOptions<TlsClientOptions>, TlsClientOptions {
  /** Bytes per socket read buffer. Default 64 KiB. */
  readBufferSize?: number;
  /**
   * A proxy to tunnel through: `http://[user:pass@]host:port` (HTTP CONNECT), `https://...` (the same over TLS
   * to the proxy; ws: targets only, see the README), `socks5://` / `socks5h://` (the proxy resolves the target's
   * name); or `{ url, headers, noProxy }`; or `'env'`; or `false` for always direct. Default `'env'`:
   * HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY, as Deno's own fetch and WebSocket read them (when env
   * access is granted; without it, direct).
   */
  proxy?: ProxyOption;
}

/** Options for the `WebSocket` and `WebSocketStream` classes: everything but what their constructors take. */
export type WebSocketOptions = Omit<ConnectOptions, 'protocols' | 'signal'>;

/** Dials `url` (through the proxy `options` name, if any) and binds the connection as a channel. */
export const dialStreams: (url: URL, options: ConnectOptions, signal: AbortSignal) => Promise<ByteChannel> = channelDialer<ConnectOptions, Deno.TcpConn | Deno.TlsConn>({
  env: denoEnv,
  defaultProxy: () => 'env',
  direct: dial,
  viaProxy: dialViaProxy,
  bind: (conn, o) => connChannel(conn, o.readBufferSize !== undefined ? { readBufferSize: o.readBufferSize } : {}),
});

const api = clientApi<ConnectOptions>({ dialerOptions: ['ca', 'rejectUnauthorized', 'clientCert'], dial: dialStreams });

/**
 * Opens a WebSocket to a ws: or wss: URL. Returns the session's WebSocketStream at once: `opened` resolves to
 * `{ readable, writable, protocol, extensions }` after the 101, `closed` to `{ closeCode, reason }`. Throws
 * synchronously (SyntaxError/TypeError) for a bad URL, subprotocol list, header or proxy; everything else is
 * reported through `opened` (HandshakeError with the status the server answered, TlsConnectError, a connection
 * error, the abort reason, or the timeout) and `closed`.
 */
export const connect: ConnectFunction<ConnectOptions> = api.connect;

/**
 * A browser-compatible `WebSocket` class dialing with these options (TLS trust, headers, deflate, limits ...):
 * `const WS = createWebSocket({ ca }); new WS('wss://localhost:8443/', ['chat'])`.
 */
export const createWebSocket: (options?: WebSocketOptions) => WebSocketConstructor = api.createWebSocket;

/** `new WebSocket('ws://127.0.0.1:8080/path', ['chat'])` over Deno's TCP/TLS, with default options. */
export const WebSocket: WebSocketConstructor = createWebSocket();
/** The instance type (the session's WHATWG WebSocket class). */
export type WebSocket = SessionWebSocket;

/**
 * A WHATWG `WebSocketStream` constructor dialing with these options: `new (createWebSocketStream({ ca }))(url,
 * { protocols, signal })`. Instances are the session's WebSocketStream (`instanceof` holds for both).
 */
export const createWebSocketStream: (options?: WebSocketOptions) => WebSocketStreamConstructor = api.createWebSocketStream;

/** `new WebSocketStream('ws://127.0.0.1:8080/', { protocols, signal })` over Deno's TCP/TLS, with default options. */
export const WebSocketStream: WebSocketStreamConstructor = createWebSocketStream();
/** The instance type (the session's WebSocketStream). */
export type WebSocketStream = SessionWebSocketStream;
