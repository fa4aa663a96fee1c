/**
 * @streamsocket/node: binds the runtime-free WebSocket session to Node's net, tls and http modules.
 * Nothing protocol-specific lives here: the handshake, framing and close logic come from @streamsocket/session,
 * @streamsocket/handshake and @streamsocket/codec.
 */
export { socketChannel, DEFAULT_WRITE_HIGH_WATER_MARK } from './socket-channel.js';
export type { SocketChannelOptions } from './socket-channel.js';
export { DEFAULT_READ_HIGH_WATER_MARK } from '@streamsocket/session';
export type { ByteChannel, Channel } from '@streamsocket/session';
export { connect, createWebSocket, WebSocket, createWebSocketStream, WebSocketStream, dialTarget } from './client.js';
export type { ConnectOptions, WebSocketOptions } from './client.js';
export { TlsConnectError } from './dial.js';
export { ProxyError } from '@streamsocket/session';
export type { ProxyOption, ProxyConfig, ProxyHop, ProxyErrorCode } from '@streamsocket/session';
export type { TlsClientOptions } from './dial.js';
export { serve } from './server.js';
export { DEFAULT_MAX_PENDING_HANDSHAKES } from '@streamsocket/session';
export type {
  ServeOptions, TlsServerOptions, WebSocketServer, ConnectionInfo, FailedConnectionInfo, StreamHandler, StreamedMessageHandler, WebSocketHandler,
} from './server.js';
export type { ServerCloseOptions as CloseOptions } from '@streamsocket/session';
export { upgrade } from './upgrade.js';
export type { UpgradeOptions } from './upgrade.js';
export { serializeIncomingHead } from './request-head.js';
export { goingAway } from '@streamsocket/session';

// The session's types and classes users meet through this package.
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
export { handleUpgrades, requestOf } from './fetch-upgrade.js';
export type { UpgradeEnv, UpgradeFetch, HandleUpgradesOptions } from './fetch-upgrade.js';
export { acceptHttp2, connectHttp2, serveHttp2, isWebSocketConnect, ExtendedConnectUnsupportedError } from './http2.js';
export type { Http2AcceptOptions, Http2ConnectOptions, ServeHttp2Options, Http2WebSocketServer, Http2ConnectionInfo } from './http2.js';
