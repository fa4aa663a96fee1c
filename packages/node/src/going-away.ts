/**
 * Server-initiated closes with codes the WHATWG `close()` refuses to take from applications: 1001 Going Away on
 * shutdown, 1011 Internal Error after a handler failure. They are legitimate on the wire (RFC 6455 7.4.1); the
 * session sends them through `WebSocketStream.closeWithCode()`. Named like @streamsocket/node's helper.
 */
import type { WebSocketStream } from '@streamsocket/session';

export function goingAway(ws: WebSocketStream, reason: string, code = 1001): void {
  ws.closeWithCode(code, reason);
}
