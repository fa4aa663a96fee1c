/**
 * `streamsocket` in workerd (the `workerd` export condition, Cloudflare Workers): the client over
 * `cloudflare:sockets` (a raw TCP or TLS byte pair that the session runs the WebSocket protocol over), plus the
 * runtime-free layers. A Worker receives its connections through its fetch handler, so `serve()` and `upgrade()`
 * throw UnsupportedFeatureError here. permessage-deflate needs `node:zlib` (the `nodejs_compat` flag); without it
 * it is simply not offered.
 */
import { connect as connectTcp } from 'cloudflare:sockets';
import {
  connectWith, createWebSocketClass, createWebSocketStreamClass, dialTarget,
  type ByteDuplex, type ConnectOptions as SessionConnectOptions, type DialOptions, type WebSocket as SessionWebSocket,
  type WebSocketConstructor, type WebSocketStream as SessionWebSocketStream, type WebSocketStreamConstructor,
} from '@streamsocket/session';
import { unavailable } from './unsupported.js';

export { WebSocketError, CloseEvent, MessageEvent, wrapWebSocket } from '@streamsocket/session';
export type { WebSocketOpenInfo, CloseInfo } from '@streamsocket/session';
export { HandshakeError } from '@streamsocket/handshake';
export { UnsupportedFeatureError } from './unsupported.js';
export type { RuntimeName } from './unsupported.js';

/** The runtime this entry was resolved for. */
export const runtime = 'workerd' as const;

export interface ConnectOptions extends SessionConnectOptions {
  /** ms for the whole opening: TCP connect, TLS and the HTTP upgrade exchange (sets `handshakeTimeout`). */
  connectTimeout?: number;
}

/** Opens TCP (ws:) or TLS (wss:) to the URL's host with cloudflare:sockets; the socket closes if `signal` aborts. */
async function dialSocket(url: URL, signal: AbortSignal): Promise<ByteDuplex> {
  const t = dialTarget(url);
  const socket = connectTcp({ hostname: t.hostname, port: t.port }, { secureTransport: t.secure ? 'on' : 'off', allowHalfOpen: false });
  const onAbort = (): void => void socket.close().catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await socket.opened;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`could not connect to ${t.hostname}:${t.port} (${url.href}): ${why}`, { cause: e });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) {
    void socket.close().catch(() => {});
    throw signal.reason;
  }
  return { readable: socket.readable, writable: socket.writable };
}

function sessionOptions(o: ConnectOptions): SessionConnectOptions {
  const { connectTimeout, ...rest } = o;
  const s: SessionConnectOptions = { ...rest };
  if (connectTimeout !== undefined) s.handshakeTimeout = connectTimeout;
  return s;
}

/** Opens a WebSocket to a ws: or wss: URL over cloudflare:sockets (the same API as in Node, Deno and Bun). */
export function connect(url: string | URL, options: ConnectOptions = {}): SessionWebSocketStream {
  return connectWith(dialSocket, url, sessionOptions(options));
}

/** A browser-style `WebSocket` constructor over cloudflare:sockets with these options. */
export function createWebSocket(options: Omit<ConnectOptions, 'protocols' | 'signal'> = {}): WebSocketConstructor {
  return createWebSocketClass((url: URL, d: DialOptions) => dialSocket(url, d.signal), sessionOptions(options));
}

/** A WHATWG `WebSocketStream` constructor over cloudflare:sockets with these options. */
export function createWebSocketStream(options: Omit<ConnectOptions, 'protocols' | 'signal'> = {}): WebSocketStreamConstructor {
  return createWebSocketStreamClass((url: URL, d: DialOptions) => dialSocket(url, d.signal), sessionOptions(options));
}

/** `new WebSocket(url, protocols)` over cloudflare:sockets (not workerd's own fetch-based client). */
export const WebSocket: WebSocketConstructor = createWebSocket();
export type WebSocket = SessionWebSocket;
/** `new WebSocketStream(url, { protocols, signal })` over cloudflare:sockets. */
export const WebSocketStream: WebSocketStreamConstructor = createWebSocketStream();
export type WebSocketStream = SessionWebSocketStream;

const noServer = 'a Worker receives connections through its fetch handler, not by listening';
export const serve: (options: unknown, handler: unknown) => never = unavailable('workerd', 'serve()', noServer);
export const upgrade: (req: unknown, socket: unknown, head: Uint8Array) => never = unavailable('workerd', 'upgrade(req, socket, head)', noServer);
