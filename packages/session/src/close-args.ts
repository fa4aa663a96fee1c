/**
 * The close-argument checks WHATWG mandates for `WebSocket.close(code, reason)`,
 * `WebSocketStream.close({closeCode, reason})` and `new WebSocketError()`.
 * Shared so all three entry points reject exactly the same inputs.
 */
/** Max reason size: a control frame payload is at most 125 bytes, 2 of them the code. */
export const MAX_REASON_BYTES = 123;

export function utf8Length(s: string): number {
  // Count without allocating for the common ASCII case.
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++; } else n += 3;
    } else n += 3; // BMP char, or a lone surrogate (encoded as U+FFFD, 3 bytes)
  }
  return n;
}

/**
 * Returns the normalized pair: `code` null means "send a close frame without a code"
 * (the peer then reports 1005). Throws DOMException InvalidAccessError / SyntaxError.
 */
export function validateCloseArgs(code: number | undefined | null, reason: string | undefined | null): { code: number | null; reason: string } {
  let c: number | null = null;
  if (code !== undefined && code !== null) {
    // WebIDL [Clamp] unsigned short: the value is converted before the range check.
    c = clampUnsignedShort(code);
    if (c !== 1000 && !(c >= 3000 && c <= 4999)) {
      throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${c} is neither.`, 'InvalidAccessError');
    }
  }
  const r = reason === undefined || reason === null ? '' : String(reason);
  if (utf8Length(r) > MAX_REASON_BYTES) {
    throw new DOMException('The close reason must not be greater than 123 UTF-8 bytes.', 'SyntaxError');
  }
  // WHATWG "establish a WebSocket close": a reason without a code implies 1000.
  if (c === null && reason !== undefined && reason !== null) c = 1000;
  return { code: c, reason: r };
}

function clampUnsignedShort(v: number): number {
  const n = Number(v);
  if (Number.isNaN(n)) return 0;
  const clamped = Math.min(Math.max(n, 0), 65535);
  // [Clamp] rounds half to even.
  const f = Math.floor(clamped);
  const diff = clamped - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
