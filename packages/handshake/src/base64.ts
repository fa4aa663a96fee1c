/** Standard base64 (RFC 4648 section 4) with padding; no `btoa`/`Buffer` so it behaves identically everywhere. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  if (i < n) {
    const a = bytes[i]!;
    const b = i + 1 < n ? bytes[i + 1]! : 0;
    const v = (a << 16) | (b << 8);
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]!;
    out += i + 1 < n ? ALPHABET[(v >> 6) & 63]! + '=' : '==';
  }
  return out;
}

/**
 * Strict decode: only the standard alphabet, length a multiple of 4, correct
 * padding, and unused trailing bits zero (so each byte string has exactly one
 * accepted encoding). Returns null on any deviation instead of guessing.
 */
export function base64Decode(s: string): Uint8Array | null {
  const len = s.length;
  if (len % 4 !== 0) return null;
  let pad = 0;
  if (len > 0 && s.charCodeAt(len - 1) === 0x3d) pad = s.charCodeAt(len - 2) === 0x3d ? 2 : 1;
  const out = new Uint8Array((len / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    const last = i + 4 === len;
    const c0 = code(s, i);
    const c1 = code(s, i + 1);
    const c2 = last && pad === 2 ? 0 : code(s, i + 2);
    const c3 = last && pad >= 1 ? 0 : code(s, i + 3);
    if ((c0 | c1 | c2 | c3) < 0) return null;
    const v = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
    out[o++] = v >> 16;
    if (last && pad === 2) {
      if ((v & 0xffff) !== 0) return null; // non-canonical trailing bits
      break;
    }
    out[o++] = (v >> 8) & 0xff;
    if (last && pad === 1) {
      if ((v & 0xff) !== 0) return null;
      break;
    }
    out[o++] = v & 0xff;
  }
  return out;
}

function code(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 256 ? DECODE[c]! : -1;
}
