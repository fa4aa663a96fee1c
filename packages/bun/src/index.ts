/**
 * @streamsocket/bun: binds the runtime-free WebSocket session to Bun's TCP and TLS sockets (Bun.connect,
 * Bun.listen, with their `tls` options). Nothing protocol-specific lives here: the handshake, framing
 * and close logic come from @streamsocket/session, @streamsocket/handshake and @streamsocket/codec.
 */
export { connect, createWebSocket, WebSocket, createWebSocketStream, WebSocketStream, dialStreams, dialTarget } from './client.js';
export type { ConnectOptions, WebSocketOptions } from './client.js';
export { serve } from './server.js';
export { DEFAULT_MAX_PENDING_HANDSHAKES } from '@streamsocket/session';
export type {
  ServeOptions, TlsServerOptions, WebSocketServer, ConnectionInfo, FailedConnectionInfo, StreamHandler, StreamedMessageHandler, WebSocketHandler,
} from './server.js';
export type { ServerCloseOptions as CloseOptions, ServerAddress } from '@streamsocket/session';
export { goingAway } from '@streamsocket/session';
export { SocketBinding, socketHandlers } from './socket-channel.js';
export type { SocketChannelOptions } from './socket-channel.js';
export type { ByteChannel, Channel } from '@streamsocket/session';
export { dial, TlsConnectError } from './dial.js';
export { ProxyError } from '@streamsocket/session';
export type { ProxyOption, ProxyConfig, ProxyHop, ProxyErrorCode } from '@streamsocket/session';
export type { DialTarget, TlsClientOptions } from './dial.js';
// The session's types and classes users meet through this package (as @streamsocket/node re-exports them).
export { WebSocketError, CloseEvent, MessageEvent, wrapWebSocket } from '@streamsocket/session';
export type { WebSocketOpenInfo, CloseInfo, Refusal, Acceptance, RequestHook, StreamedMessage, OutgoingStream, MessageOf } from '@streamsocket/session';
export { HandshakeError } from '@streamsocket/handshake';

// Serving from a fetch handler: one route object for Deno.serve, Bun.serve, workerd and (with handleUpgrades) Node;
// topics (publish/subscribe) and the Redis-style backplane interface.
export { websocketRoute, Topics } from '@streamsocket/session';
export type {
  WebSocketRoute, RouteOptions, RouteInfo, RouteStreamHandler, RouteWebSocketHandler, SessionEngine, TopicsOptions, PublishOptions,
  PublishData, Backplane,
} from '@streamsocket/session';
