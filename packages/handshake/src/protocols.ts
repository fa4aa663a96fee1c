import { HandshakeError } from './errors.js';
import { isToken, splitList } from './syntax.js';

/**
 * Parses a Sec-WebSocket-Protocol value (1#token, RFC 6455 section 4.1), already
 * joined across header lines. Empty list elements are ignored (RFC 9110
 * section 5.6.1); a non-token element or a duplicate (exact, case-sensitive
 * comparison, as subprotocol names are) throws HandshakeError(400).
 */
export function parseProtocols(value: string): string[] {
  const out: string[] = [];
  for (const p of splitList(value)) {
    if (!isToken(p)) throw new HandshakeError(400, 'BAD_PROTOCOL', 'invalid Sec-WebSocket-Protocol token');
    if (out.includes(p)) throw new HandshakeError(400, 'DUPLICATE_PROTOCOL', 'duplicate Sec-WebSocket-Protocol token');
    out.push(p);
  }
  return out;
}

/** Client-side check of user-given subprotocols, mirroring the WebSocket API (SyntaxError). */
export function checkClientProtocols(protocols: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of protocols) {
    if (typeof p !== 'string' || !isToken(p)) throw new SyntaxError('invalid subprotocol (must be an HTTP token)');
    if (out.includes(p)) throw new SyntaxError('duplicate subprotocol');
    out.push(p);
  }
  return out;
}
