/**
 * Every adapter's client API (`connect`, `createWebSocket`, `createWebSocketStream`) over one dial function. The
 * adapters differ only in how they dial and bind a socket and in their TLS options; the options they share on
 * top of the session's (`connectTimeout`, `permessageDeflate`, `readBufferSize`, `proxy`, `proxyTls`), how
 * options split between the session and the dialer, and when a bad `proxy` is reported live here.
 */
import type { ByteChannel } from './channel.js';
import { connectWith, dialTarget, type DialTarget } from './dialing.js';
import type { MessageOf, StreamedMessage } from './message-stream.js';
import { resolveProxy, validateProxyOption, type EnvLookup, type ProxyEndpoint, type ProxyOption } from './proxy-env.js';
import type { ConnectOptions, WebSocketStream } from './websocket-stream.js';
import { createWebSocketClass, createWebSocketStreamClass, type DialOptions, type WebSocketConstructor, type WebSocketStreamConstructor } from './websocket.js';

/** The client options every adapter takes on top of the session's `ConnectOptions`. */
export interface ClientOptions<Tls = unknown> extends ConnectOptions {
  /**
   * ms for the whole opening: DNS, TCP connect, TLS handshake and the HTTP upgrade exchange. Default 10 000 (the
   * session's `handshakeTimeout`, which this sets). 0 disables.
   */
  connectTimeout?: number;
  /** Alias of `deflate`: offer permessage-deflate (RFC 7692). Default false. */
  permessageDeflate?: ConnectOptions['deflate'];
  /** Bytes of input a connection buffers before its socket is paused (the channel's queue). Default 64 KiB. */
  readBufferSize?: number;
  /** A proxy to tunnel through, `'env'`, or `false` for direct (each adapter's README says its default). */
  proxy?: ProxyOption;
  /** TLS options for an `https:` proxy itself (the connection's own TLS options apply to the target). */
  proxyTls?: Tls;
}

/** `connect(url, options)`: a WebSocketStream at once, whose messages are streams when `streamMessages` is set. */
export interface ConnectFunction<O extends ConnectOptions> {
  (url: string | URL, options: O & { streamMessages: true }): WebSocketStream<StreamedMessage>;
  (url: string | URL, options?: O): WebSocketStream;
}

/** What an adapter supplies: its dial, and the names of the options only that dial reads. */
export interface ClientDialer<O extends ClientOptions> {
  /** Option names that belong to the dialer (TLS), not the session; the shared ones are known here. */
  dialerOptions: readonly string[];
  /** Dials `url` (through `options.proxy` when it applies) and binds the socket; rejects once `signal` aborts. */
  dial(url: URL, options: O, signal: AbortSignal): Promise<ByteChannel>;
}

/** The client half of an adapter's API. */
export interface ClientApi<O extends ClientOptions> {
  connect: ConnectFunction<O>;
  /** A browser-compatible `WebSocket` class that dials with these options. */
  createWebSocket(options?: Omit<O, 'protocols' | 'signal'>): WebSocketConstructor;
  /** A WHATWG `WebSocketStream` constructor that dials with these options. */
  createWebSocketStream(options?: Omit<O, 'protocols' | 'signal'>): WebSocketStreamConstructor;
}

/** An adapter's two ways to a target, directly or through a proxy's tunnel, and how it binds what it dialed. */
export interface TransportDialer<O extends ClientOptions, T> {
  /** Where a `'env'` proxy is looked up. */
  env: EnvLookup | undefined;
  /** `proxy` when the options leave it unset (`'env'` or false), asked at each dial. */
  defaultProxy(): ProxyOption;
  /** Dials the target itself. */
  direct(target: DialTarget, options: O, signal: AbortSignal): Promise<T>;
  /** Dials the proxy and tunnels to the target: `tls.target` for the target, `tls.proxy` (`proxyTls`) for an https: proxy. */
  viaProxy(proxy: ProxyEndpoint, target: DialTarget, tls: { target: O; proxy: NonNullable<O['proxyTls']> | Record<never, never> }, signal: AbortSignal): Promise<T>;
  /** Binds what was dialed as the session's channel. */
  bind(transport: T, options: O): ByteChannel;
}

/** A ClientDialer's `dial` over a TransportDialer: through the proxy the options (or the default) name, else direct. */
export function channelDialer<O extends ClientOptions, T>(
  d: TransportDialer<O, T>,
): (url: URL, options: O, signal: AbortSignal) => Promise<ByteChannel> {
  return async (url, options, signal) => {
    const proxy = resolveProxy(url, options.proxy, d.env, d.defaultProxy());
    const target = dialTarget(url);
    const transport = proxy
      ? await d.viaProxy(proxy, target, { target: options, proxy: options.proxyTls ?? {} }, signal)
      : await d.direct(target, options, signal);
    return d.bind(transport, options);
  };
}

const SHARED_DIALER_OPTIONS = ['readBufferSize', 'proxy', 'proxyTls'];

/**
 * Splits adapter options: the session gets everything but the dialer's, with `connectTimeout` as its
 * `handshakeTimeout` and `permessageDeflate` as `deflate` (unless `deflate` is set).
 */
function sessionOptions<O extends ClientOptions>(o: O, dialerOptions: readonly string[]): ConnectOptions {
  const s: ConnectOptions = { ...o };
  for (const k of [...SHARED_DIALER_OPTIONS, ...dialerOptions, 'connectTimeout', 'permessageDeflate']) delete (s as Record<string, unknown>)[k];
  if (o.connectTimeout !== undefined) s.handshakeTimeout = o.connectTimeout;
  if (o.permessageDeflate !== undefined && s.deflate === undefined) s.deflate = o.permessageDeflate;
  return s;
}

/**
 * Builds `connect`, `createWebSocket` and `createWebSocketStream` for an adapter. The options are copied when
 * given (a class made by `createWebSocket` does not see later changes to the object), and a bad `proxy` throws
 * there, synchronously, like a bad URL.
 */
export function clientApi<O extends ClientOptions>(dialer: ClientDialer<O>): ClientApi<O> {
  const bind = (options: O): { dial: (url: URL, signal: AbortSignal) => Promise<ByteChannel>; session: ConnectOptions } => {
    validateProxyOption(options.proxy);
    const own = { ...options };
    return { dial: (url, signal) => dialer.dial(url, own, signal), session: sessionOptions(own, dialer.dialerOptions) };
  };
  function connect(url: string | URL, options: O = {} as O): WebSocketStream<MessageOf<O>> {
    const b = bind(options);
    return connectWith(b.dial, url, b.session) as WebSocketStream<MessageOf<O>>;
  }
  return {
    connect: connect as ConnectFunction<O>,
    createWebSocket(options = {} as O) {
      const b = bind(options as O);
      return createWebSocketClass((url: URL, d: DialOptions) => b.dial(url, d.signal), b.session);
    },
    createWebSocketStream(options = {} as O) {
      const b = bind(options as O);
      return createWebSocketStreamClass((url: URL, d: DialOptions) => b.dial(url, d.signal), b.session);
    },
  };
}
