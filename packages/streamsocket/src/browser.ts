/**
 * `streamsocket` in a browser (the `browser` export condition, also the `default` one): a page cannot open TCP, so
 * `WebSocket` is the page's own and `WebSocketStream`/`connect()` run over it (see native-stream.ts); the
 * runtime-free layers (`streamsocket/codec`, `/handshake`, `/session`) work as everywhere. `serve()` and
 * `upgrade()` throw UnsupportedFeatureError: a page cannot accept connections.
 */
import { createNativeWebSocketStreamClass, type HostWebSocketConstructor, type NativeWebSocketStream, type NativeWebSocketStreamOptions } from './native-stream.js';
import { unavailable } from './unsupported.js';

export { WebSocketError, CloseEvent, MessageEvent, wrapWebSocket } from '@streamsocket/session';
export type { WebSocketOpenInfo, CloseInfo } from '@streamsocket/session';
export { HandshakeError } from '@streamsocket/handshake';
export { UnsupportedFeatureError } from './unsupported.js';
export type { RuntimeName } from './unsupported.js';
export { createNativeWebSocketStreamClass, DEFAULT_SEND_HIGH_WATER_MARK } from './native-stream.js';
export type { HostWebSocket, HostWebSocketConstructor, NativeWebSocketStreamOptions, NativeWebSocketStreamConstructor } from './native-stream.js';

/** The runtime this entry was resolved for. */
export const runtime = 'browser' as const;

const hostWebSocket = (): HostWebSocketConstructor | undefined => (globalThis as { WebSocket?: HostWebSocketConstructor }).WebSocket;

/** The page's own WebSocket class. */
export const WebSocket: typeof globalThis.WebSocket = globalThis.WebSocket;
export type WebSocket = globalThis.WebSocket;

/** `new WebSocketStream(url, { protocols, signal })` over the page's WebSocket. */
export const WebSocketStream = createNativeWebSocketStreamClass(hostWebSocket);
export type WebSocketStream = NativeWebSocketStream;

export type ConnectOptions = NativeWebSocketStreamOptions;

/** Opens a WebSocket to a ws: or wss: URL (over the page's WebSocket): the same call as in Node, Deno and Bun. */
export function connect(url: string | URL, options: ConnectOptions = {}): WebSocketStream {
  return new WebSocketStream(url, options);
}

const noServer = 'a web page cannot accept connections';
export const serve: (options: unknown, handler: unknown) => never = unavailable('browser', 'serve()', noServer);
export const upgrade: (req: unknown, socket: unknown, head: Uint8Array) => never = unavailable('browser', 'upgrade(req, socket, head)', noServer);
