/**
 * Character classes of RFC 9110 / RFC 9112 as 256-entry lookup tables, so every
 * check is one array load per byte (no regular expressions on peer input).
 */

const HTAB = 0x09;
const SP = 0x20;

/** tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
export const TCHAR: Uint8Array = new Uint8Array(256);
/** field-vchar / SP / HTAB: VCHAR (0x21-0x7E), obs-text (0x80-0xFF), SP and HTAB. Excludes NUL, CR, LF, other CTLs and DEL. */
export const FIELD_CHAR: Uint8Array = new Uint8Array(256);

for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;
for (let c = 0x21; c <= 0x7e; c++) FIELD_CHAR[c] = 1;
for (let c = 0x80; c <= 0xff; c++) FIELD_CHAR[c] = 1;
FIELD_CHAR[SP] = 1;
FIELD_CHAR[HTAB] = 1;

/** True if `s` is a non-empty RFC 9110 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * True if `s` may be sent as a field value: only HTAB, SP, VCHAR and obs-text,
 * no leading/trailing whitespace. Rejects CR, LF and NUL (header injection).
 */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_CHAR[c] !== 1) return false;
  }
  if (s.length > 0) {
    const a = s.charCodeAt(0);
    const b = s.charCodeAt(s.length - 1);
    if (a === SP || a === HTAB || b === SP || b === HTAB) return false;
  }
  return true;
}

/** True for SP / HTAB (OWS). */
export function isOWS(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * Splits a comma-separated list of tokens (RFC 9110 section 5.6.1), trimming
 * OWS and ignoring empty elements as the list rule requires. Does not handle
 * quoted strings: use it only for token lists (Connection, Upgrade, protocols).
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i === value.length || value.charCodeAt(i) === 0x2c /* , */) {
      let a = start;
      let b = i;
      while (a < b && isOWS(value.charCodeAt(a))) a++;
      while (b > a && isOWS(value.charCodeAt(b - 1))) b--;
      if (b > a) out.push(value.slice(a, b));
      start = i + 1;
    }
  }
  return out;
}

/** Case-insensitive search for `token` among the elements of a comma-separated list value. */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const want = token.toLowerCase();
  for (const el of splitList(value)) if (el.toLowerCase() === want) return true;
  return false;
}

/** Latin-1 decode of bytes[start, end): each byte is one UTF-16 code unit (lossless for HTTP heads). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  // Chunked so very long lines never hit the engine's argument-count limit.
  for (let i = start; i < end; i += 8192) {
    const j = Math.min(end, i + 8192);
    s += String.fromCharCode.apply(null, bytes.subarray(i, j) as unknown as number[]);
  }
  return s;
}

/** Latin-1 encode; throws TypeError on code units above 0xFF (they cannot appear in an HTTP head). */
export function encodeLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError('character outside Latin-1 in HTTP head');
    out[i] = c;
  }
  return out;
}
