// Sessions (WebSocketStream API) over any byte duplex
export { accept, connect, WebSocketStream } from './websocket-stream.js';
export type { WebSocketOpenInfo, AcceptOptions, ConnectOptions } from './websocket-stream.js';
export type { Refusal, Acceptance, RequestHook, HeaderInit } from './server-handshake.js';
export type { RefusedError } from './client-handshake.js';
export type { CloseInfo, SendData, ReceiveData, ReadyState } from './connection.js';
export type { StreamedMessage, OutgoingStream, MessageOf } from './message-stream.js';

// What every client adapter's connect() does around its dial
export { connectWith, dialTarget } from './dialing.js';
export type { ConnectionDialer, DialTarget } from './dialing.js';
export { clientApi, channelDialer } from './client-api.js';
export type { ClientApi, ClientDialer, ClientOptions, ConnectFunction, TransportDialer } from './client-api.js';

// Proxies for every client adapter: which one (option or environment), and the tunnel protocols
export { resolveProxy, parseProxyUrl, proxyUrlFromEnv, matchesNoProxy, validateProxyOption } from './proxy-env.js';
export type { EnvLookup, ProxyConfig, ProxyEndpoint, ProxyOption, ProxyScheme } from './proxy-env.js';
export { ProxyError, dialThroughProxy, httpConnect, socks5Connect } from './proxy-tunnel.js';
export type { ProxyErrorCode, ProxyHop, ProxyTransport, TunnelIO } from './proxy-tunnel.js';
export { parseIPv4, parseIPv6 } from './ip-literal.js';

// What every server adapter does with an accepted connection (handshake cap, handler, shutdown)
export { ServerCore, Admitted, DEFAULT_MAX_PENDING_HANDSHAKES, acceptOptionsOf, coreOptionsOf, goingAway, serverObject } from './server-core.js';
export type {
  ServedConnection, Served, Failed, ServedStreamHandler, ServedWebSocketHandler, ServerCoreOptions, ServeOptionsBase, ServerCloseOptions,
  WebSocketServerBase,
} from './server-core.js';
export { listeningFields, serveCore } from './serve-types.js';
export type {
  ServedInfo, PeerInfo, AdapterInfoOf, FailedInfoOf, StreamHandlerOf, StreamedMessageHandlerOf, WebSocketHandlerOf, ServeOptionsOf, PemKeyPair, ServerAddress,
  ListeningServer, ServeFunction,
} from './serve-types.js';

// Who gets into the opening handshake (pending caps that drop the oldest, per-address caps, trusted proxies)
export { Admission, PendingEntry, DEFAULT_ADMISSION, DROPPED } from './admission.js';
export type { AdmissionOptions, AdmissionStats, DropReason } from './admission.js';
export { addressKey, forwardedClient, parseIp, trustTest } from './addresses.js';
export type { TrustedProxies } from './addresses.js';

// The WHATWG WebSocket class
export { WebSocket, createWebSocketClass, createWebSocketStreamClass, wrapWebSocket } from './websocket.js';
export type {
  BinaryType, Dialer, DialOptions, WebSocketConstructor, WebSocketStreamConstructor, WebSocketStreamOptions, WebSocketEventHandler, WebSocketEventListener,
} from './websocket.js';
export { CloseEvent, MessageEvent, ErrorEvent } from './events.js';
export type {
  CloseEventInit, MessageEventLike, ErrorEventInit, WebSocketEventMap, WebSocketMessageEvent, WebSocketCloseEvent, WebSocketErrorEvent,
} from './events.js';

// Errors and validation
export { WebSocketError } from './errors.js';
export type { WebSocketCloseInfo } from './errors.js';
export { validateCloseArgs, utf8Length, MAX_REASON_BYTES } from './close-args.js';
export { TlsConnectError, formatHost } from './tls-error.js';

// In-memory byte pipe (tests, in-process bridges)
export { createPipePair } from './pipe-pair.js';
export type { PipeEnd, PipeOptions } from './pipe-pair.js';

// The transport contract: the one channel the session drives, and what adapters build it from
export { Channel, channelFromStreams, toChannel, closedError, DEFAULT_READ_HIGH_WATER_MARK } from './channel.js';
export type { ByteChannel, ByteDuplex, ChannelSink, ChannelPort, ChannelOptions, ConnectionOwner, ReadResult } from './channel.js';

// Options
export { DEFAULTS, resolveOptions } from './options.js';
export type { CommonOptions, ResolvedOptions, SessionLimits, SessionTimeouts, SessionBuffers } from './options.js';

// Shared timer queue (exposed for introspection in tests and benchmarks)
export { TimerQueue, timers } from './timers.js';
export type { TimerTarget, TimerEntry } from './timers.js';

// Serving from a fetch handler (Deno.serve, Bun.serve, workerd, Node through handleUpgrades) and platform sockets
export { websocketRoute, offerSocket, socketTaken, requestHeadOf } from './request-upgrade.js';
export type {
  WebSocketRoute, RouteOptions, RouteInfo, RouteStreamHandler, RouteWebSocketHandler, BunWebSocketHandlers, BunServerWebSocket, SocketTakeover,
} from './request-upgrade.js';
export { PlatformConnection, DEFAULT_MAX_READ_BACKLOG } from './platform.js';
export type { PlatformSocket, PlatformBinding, SessionCore } from './platform.js';
export type { SessionEngine, TopicRegistry } from './websocket-stream.js';

// Topics (publish/subscribe) and the backplane that carries them between processes
export { Topics, DEFAULT_MAX_PUBLISH_BACKLOG } from './topics.js';
export type { TopicsOptions, PublishOptions, PublishData, Backplane } from './topics.js';
