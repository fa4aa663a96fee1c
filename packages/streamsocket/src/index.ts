/**
 * `streamsocket` in Node.js (the `node` export condition): the Node adapter (`net`, `tls`, `http` upgrade), with
 * the same names as every other runtime's entry. Other runtimes resolve `streamsocket` to their own entry: deno.ts,
 * bun.ts, workerd.ts, browser.ts (also the `default`).
 */
export {
  serve, connect, upgrade, WebSocket, WebSocketStream, createWebSocket, createWebSocketStream, goingAway, TlsConnectError,
  WebSocketError, CloseEvent, MessageEvent, wrapWebSocket, HandshakeError,
} from '@streamsocket/node';
export type {
  ConnectOptions, ServeOptions, UpgradeOptions, WebSocketServer, ConnectionInfo, StreamHandler, StreamedMessageHandler, StreamedMessage, OutgoingStream, WebSocketHandler, WebSocketOpenInfo,
  CloseInfo, Refusal, Acceptance, RequestHook,
} from '@streamsocket/node';
export { UnsupportedFeatureError } from './unsupported.js';
export type { RuntimeName } from './unsupported.js';

/** The runtime this entry was resolved for. */
export const runtime = 'node' as const;
