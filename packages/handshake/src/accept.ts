import { base64Encode } from './base64.js';
import { sha1 } from './sha1.js';

/** The GUID RFC 6455 section 1.3 appends to the key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Sec-WebSocket-Accept = base64(SHA-1(key + GUID)), computed synchronously in
 * pure JS (see sha1.ts for why). The key is taken as its Latin-1 bytes, which
 * is what was on the wire.
 */
export function computeAccept(key: string): string {
  const s = key + WEBSOCKET_GUID;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i) & 0xff;
  return base64Encode(sha1(bytes));
}
