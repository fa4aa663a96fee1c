/**
 * @streamsocket/node: binds the runtime-free WebSocket session to Node's net, tls and http modules.
 * Nothing protocol-specific lives here: the handshake, framing and close logic come from @streamsocket/session,
 * @streamsocket/handshake and @streamsocket/codec.
 */
export { socketStreams, DEFAULT_READ_HIGH_WATER_MARK } from './socket-streams.js';
export type { SocketStreams, SocketStreamsOptions } from './socket-streams.js';
