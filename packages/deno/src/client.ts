/**
 * Client side: `connect(url, options)` dials TCP/TLS with Deno's APIs, binds the connection, and hands it to
 * the session, which writes the opening request, validates the 101 and runs the WebSocket. `WebSocket` is the
 * session's browser-style class bound to the same dialer.
 */
import { buildClientRequest } from '@streamsocket/handshake';
import { connect as sessionConnect, createWebSocketClass } from '@streamsocket/session';
import type { ByteDuplex, ConnectOptions as SessionConnectOptions, WebSocketConstructor, WebSocketStream } from '@streamsocket/session';
import { connStreams } from './conn-streams.js';
import { dial, type DialTarget, type TlsClientOptions } from './dial.js';

export interface ConnectOptions extends SessionConnectOptions, TlsClientOptions {
  /**
   * ms to establish the TCP (and TLS) connection. Default 10 000. The whole opening handshake is also bounded
   * by `handshakeTimeout` (which includes the connect).
   */
  connectTimeout?: number;
  /** Bytes per socket read buffer. Default 64 KiB. */
  readBufferSize?: number;
}

/** Options for the `WebSocket` class: everything but what its constructor takes. */
export type WebSocketOptions = Omit<ConnectOptions, 'protocols' | 'signal'>;

const DEFAULT_CONNECT_TIMEOUT = 10_000;

/** Where to connect, from the URL (same parsing as the handshake: SyntaxError for anything unusable). */
function targetOf(url: string | URL): DialTarget {
  const r = buildClientRequest(url);
  return { hostname: r.hostname, port: r.port, secure: r.secure };
}

/**
 * Dials `target`; the attempt is abandoned when `signal` aborts or `connectTimeout` passes, whichever first.
 * Resolves to the bound byte pair.
 */
export function dialStreams(target: DialTarget, o: ConnectOptions, signal?: AbortSignal): Promise<ByteDuplex> {
  const timeoutMs = o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(signal!.reason);
  if (signal) {
    if (signal.aborted) ac.abort(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const timer =
    timeoutMs > 0
      ? setTimeout(() => ac.abort(new DOMException(`connect timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
      : undefined;
  const tls: TlsClientOptions = {};
  if (o.ca !== undefined) tls.ca = o.ca;
  if (o.rejectUnauthorized !== undefined) tls.rejectUnauthorized = o.rejectUnauthorized;
  if (o.clientCert !== undefined) tls.clientCert = o.clientCert;
  return dial(target, tls, ac.signal)
    .then((conn) => {
      const s = connStreams(conn, o.readBufferSize !== undefined ? { readBufferSize: o.readBufferSize } : {});
      return { readable: s.readable, writable: s.writable };
    })
    .finally(() => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
}

/**
 * Opens a WebSocket to a ws: or wss: URL. Returns the session's WebSocketStream at once: `opened` resolves to
 * `{ readable, writable, protocol, extensions }` after the 101, `closed` to `{ closeCode, reason }`. Throws
 * SyntaxError/TypeError synchronously for a bad URL, protocols or headers (like `new WebSocket()`).
 */
export function connect(url: string | URL, options: ConnectOptions = {}): WebSocketStream {
  const target = targetOf(url);
  // The dial is aborted by the user's signal, the connect timeout, or the session giving up (handshake
  // timeout / close() while connecting), whichever comes first.
  const ac = new AbortController();
  const onUserAbort = (): void => ac.abort(options.signal!.reason);
  if (options.signal) {
    if (options.signal.aborted) ac.abort(options.signal.reason);
    else options.signal.addEventListener('abort', onUserAbort, { once: true });
  }
  const conn = dialStreams(target, options, ac.signal);
  conn.catch(() => {});
  let ws: WebSocketStream;
  try {
    ws = sessionConnect(conn, url, options);
  } catch (e) {
    ac.abort(e);
    throw e;
  }
  ws.opened.then(
    () => options.signal?.removeEventListener('abort', onUserAbort),
    (e: unknown) => {
      options.signal?.removeEventListener('abort', onUserAbort);
      ac.abort(e);
    },
  );
  return ws;
}

/**
 * A browser-compatible `WebSocket` class that dials with Deno's TCP/TLS. `options` (TLS, limits, timeouts,
 * deflate, headers ...) apply to every instance: `const WS = createWebSocket({ ca }); new WS('wss://...')`.
 */
export function createWebSocket(options: WebSocketOptions = {}): WebSocketConstructor {
  return createWebSocketClass((url, d) => dialStreams(targetOf(url), options, d.signal), options);
}

/** `new WebSocket(url, protocols)` over Deno's TCP/TLS with default options. */
export const WebSocket: WebSocketConstructor = createWebSocket();
