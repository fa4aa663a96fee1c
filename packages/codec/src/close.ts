import { CodecError } from './errors.js';
import { decodeUtf8, encodeUtf8, isValidUtf8 } from './utf8.js';

/**
 * Close codes that may appear on the wire (RFC 6455 7.4.1 and the IANA registry): 1000-1003, 1007-1014 and the
 * ranges for libraries/frameworks (3000-3999) and private use (4000-4999). 1004 is reserved; 1005, 1006 and 1015
 * are for reporting only and MUST NOT be sent; everything below 1000 and from 5000 up is invalid.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)
  ) && Number.isInteger(code);
}

/** Control frame payloads are at most 125 bytes, so a close reason is at most 123 UTF-8 bytes. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Builds a close frame payload. No code gives an empty payload (then a reason is not allowed). Throws RangeError for
 * a code that must not be sent or a reason longer than 123 UTF-8 bytes: those are caller bugs, not peer errors.
 */
export function encodeClosePayload(code?: number, reason?: string): Uint8Array {
  if (code === undefined) {
    if (reason) throw new RangeError('a close reason needs a close code');
    return new Uint8Array(0);
  }
  if (!isValidCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
  const text = reason ? encodeUtf8(reason) : undefined;
  const n = text ? text.length : 0;
  if (n > MAX_CLOSE_REASON_BYTES) throw new RangeError(`close reason is ${n} bytes, at most 123 allowed`);
  const out = new Uint8Array(2 + n);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  if (text) out.set(text, 2);
  return out;
}

/**
 * Reads a received close payload (RFC 6455 5.5.1): empty means "no status" (1005); otherwise a valid code and an
 * optional UTF-8 reason. Throws CodecError 1002 for a one-byte payload or an invalid code, 1007 for a bad reason.
 */
export function decodeClosePayload(payload: Uint8Array): { code: number; reason: string } {
  const n = payload.length;
  if (n === 0) return { code: 1005, reason: '' };
  checkClosePayload(payload);
  const code = (payload[0]! << 8) | payload[1]!;
  return { code, reason: n > 2 ? decodeUtf8(payload.subarray(2)) : '' };
}

/** The checks of decodeClosePayload without building the result (the frame decoder runs them on the wire). */
export function checkClosePayload(payload: Uint8Array): void {
  const n = payload.length;
  if (n === 0) return;
  if (n === 1) throw new CodecError(1002, 'CLOSE_PAYLOAD_TOO_SHORT', 'close frame payload of one byte');
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) throw new CodecError(1002, 'INVALID_CLOSE_CODE', `invalid close code ${code}`);
  if (n > 2 && !isValidUtf8(payload, 2, n)) {
    throw new CodecError(1007, 'INVALID_UTF8', 'close reason is not valid UTF-8');
  }
}
