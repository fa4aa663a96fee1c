/** `streamsocket` in Bun (the `bun` export condition): the Bun adapter (`Bun.connect`, `Bun.listen`, TLS). */
import { unavailable } from './unsupported.js';

export {
  serve, connect, WebSocket, WebSocketStream, createWebSocket, createWebSocketStream, goingAway, TlsConnectError,
  WebSocketError, CloseEvent, MessageEvent, wrapWebSocket, HandshakeError,
} from '@streamsocket/bun';
export type {
  ConnectOptions, ServeOptions, WebSocketServer, ConnectionInfo, StreamHandler, StreamedMessageHandler, StreamedMessage, OutgoingStream, WebSocketHandler, WebSocketOpenInfo, CloseInfo, Refusal,
  Acceptance, RequestHook,
} from '@streamsocket/bun';
export { UnsupportedFeatureError } from './unsupported.js';
export type { RuntimeName } from './unsupported.js';

/** The runtime this entry was resolved for. */
export const runtime = 'bun' as const;

/** Node's `upgrade(req, socket, head)` belongs to node:http's 'upgrade' event: in Bun it throws. */
export const upgrade: (req: unknown, socket: unknown, head: Uint8Array) => never = unavailable(
  'bun', 'upgrade(req, socket, head)', "it answers node:http's 'upgrade' event; use serve() (Bun.listen) instead",
);
