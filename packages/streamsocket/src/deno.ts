/** `streamsocket` in Deno (the `deno` export condition): the Deno adapter (`Deno.connect`, `Deno.listen`, TLS). */
import { unavailable } from './unsupported.js';

export {
  serve, connect, WebSocket, WebSocketStream, createWebSocket, createWebSocketStream, goingAway, TlsConnectError,
  WebSocketError, CloseEvent, MessageEvent, wrapWebSocket, HandshakeError,
} from '@streamsocket/deno';
export type {
  ConnectOptions, ServeOptions, WebSocketServer, ConnectionInfo, StreamHandler, StreamedMessageHandler, StreamedMessage, OutgoingStream, WebSocketHandler, WebSocketOpenInfo, CloseInfo, Refusal,
  Acceptance, RequestHook,
} from '@streamsocket/deno';
export { UnsupportedFeatureError } from './unsupported.js';
export type { RuntimeName } from './unsupported.js';

/** The runtime this entry was resolved for. */
export const runtime = 'deno' as const;

/** Node's `upgrade(req, socket, head)` belongs to node:http's 'upgrade' event: in Deno it throws. */
export const upgrade: (req: unknown, socket: unknown, head: Uint8Array) => never = unavailable(
  'deno', 'upgrade(req, socket, head)', "it answers node:http's 'upgrade' event; use serve() (Deno.listen) instead",
);
