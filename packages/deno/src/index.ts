/**
 * @streamsocket/deno: binds the runtime-free WebSocket session to Deno's TCP and TLS (Deno.connect,
 * Deno.connectTls, Deno.listen, Deno.listenTls). Nothing protocol-specific lives here: the handshake, framing
 * and close logic come from @streamsocket/session, @streamsocket/handshake and @streamsocket/codec.
 */
export { connect, createWebSocket, WebSocket, dialStreams } from './client.js';
export type { ConnectOptions, WebSocketOptions } from './client.js';
export { serve } from './server.js';
export type { ServeOptions, TlsServerOptions, WebSocketServer, ConnectionInfo, Handler } from './server.js';
export { connStreams } from './conn-streams.js';
export type { ConnStreams, ConnStreamsOptions, ConnLike } from './conn-streams.js';
export { dial, TlsConnectError } from './dial.js';
export type { DialTarget, TlsClientOptions } from './dial.js';
// Re-exported so that users need one import for the common case.
export { WebSocketStream, WebSocketError } from '@streamsocket/session';
export type { CloseInfo, WebSocketOpenInfo } from '@streamsocket/session';
