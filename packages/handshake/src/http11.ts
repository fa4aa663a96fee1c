/**
 * HTTP/1.1 head parsing (RFC 9112) for WebSocket handshakes, deliberately
 * strict: anything request-smuggling or response-splitting relies on is an
 * error, never "repaired". Input is a complete head whose line structure the
 * HeadReader already checked (every line ends in CRLF, no bare CR/LF, last line
 * empty), so this is one pass over the bytes, line by line, with table look-ups.
 */
import { HandshakeError } from './errors.js';
import { HeaderList } from './headers.js';
import { FIELD_CHAR, TCHAR, latin1 } from './syntax.js';

export interface RequestHead {
  method: string;
  target: string;
  /** e.g. '1.1' (from 'HTTP/1.1') */
  version: string;
  headers: HeaderList;
}

export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: HeaderList;
}

export type HeadKind = 'request' | 'response';

const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** Field names that must occur at most once: duplicates are a classic smuggling/confusion vector. */
const REQUEST_SINGLETONS = ['host', 'sec-websocket-key', 'sec-websocket-version', 'content-length', 'origin'];
const RESPONSE_SINGLETONS = ['sec-websocket-accept', 'content-length'];

/**
 * Errors while parsing a request answer 400; while parsing a response (client
 * side) no valid status was received, so status is 0.
 */
function fail(kind: HeadKind, code: string, message: string): never {
  throw new HandshakeError(kind === 'request' ? 400 : 0, code, message);
}

/** Parses a complete head (request line/status line, field lines, empty line). */
export function parseHeadBytes(kind: HeadKind, bytes: Uint8Array): RequestHead | ResponseHead {
  let lineEnd = bytes.indexOf(CR);
  const headers = new HeaderList();
  let head: RequestHead | ResponseHead;
  if (kind === 'request') head = parseRequestLine(bytes, lineEnd, headers);
  else head = parseStatusLine(bytes, lineEnd, headers);
  let pos = lineEnd + 2;
  for (;;) {
    lineEnd = bytes.indexOf(CR, pos);
    if (lineEnd === pos || lineEnd < 0) break;
    parseFieldLine(kind, bytes, pos, lineEnd, headers);
    pos = lineEnd + 2;
  }
  for (const name of kind === 'request' ? REQUEST_SINGLETONS : RESPONSE_SINGLETONS) {
    if (headers.count(name) > 1) fail(kind, 'DUPLICATE_HEADER', `duplicate ${name} header`);
  }
  return head;
}

function parseRequestLine(b: Uint8Array, end: number, headers: HeaderList): RequestHead {
  if (end === 0) fail('request', 'BAD_REQUEST_LINE', 'empty request line');
  let i = 0;
  while (i < end && TCHAR[b[i]!] === 1) i++;
  if (i === 0 || i >= end || b[i] !== SP) fail('request', 'BAD_REQUEST_LINE', 'malformed method');
  const method = latin1(b, 0, i);
  const ts = ++i;
  // request-target: visible ASCII only; its grammar is checked below on the string.
  while (i < end && b[i] !== SP) {
    const c = b[i]!;
    if (c <= 0x20 || c >= 0x7f) fail('request', 'BAD_TARGET', 'invalid character in request-target');
    i++;
  }
  if (i === ts || i >= end) fail('request', 'BAD_REQUEST_LINE', 'malformed request line');
  const target = latin1(b, ts, i);
  if (!isValidTarget(target)) fail('request', 'BAD_TARGET', 'unsupported or malformed request-target');
  const version = parseVersion(b, i + 1, end);
  if (version === null) fail('request', 'BAD_REQUEST_LINE', 'malformed HTTP-version');
  return { method, target, version, headers };
}

function parseStatusLine(b: Uint8Array, end: number, headers: HeaderList): ResponseHead {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const version = end >= 8 ? parseVersion(b, 0, 8) : null;
  if (version === null || end < 12 || b[8] !== SP) fail('response', 'BAD_STATUS_LINE', 'malformed status line');
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) fail('response', 'BAD_STATUS_LINE', 'malformed status code');
    status = status * 10 + d;
  }
  if (status < 100 || status > 599) fail('response', 'BAD_STATUS_LINE', 'status code out of range');
  // Leniency: some servers omit the SP before an empty reason; harmless to accept.
  if (end > 12 && b[12] !== SP) fail('response', 'BAD_STATUS_LINE', 'malformed status line');
  for (let i = 13; i < end; i++) {
    if (FIELD_CHAR[b[i]!] !== 1) fail('response', 'BAD_STATUS_LINE', 'invalid character in reason phrase');
  }
  const reason = end > 13 ? latin1(b, 13, end) : '';
  return { version, status, reason, headers };
}

/** HTTP-version = "HTTP" "/" DIGIT "." DIGIT, exactly (case-sensitive, RFC 9112 section 2.3). */
function parseVersion(b: Uint8Array, start: number, end: number): string | null {
  if (end - start !== 8) return null;
  if (b[start] !== 0x48 || b[start + 1] !== 0x54 || b[start + 2] !== 0x54 || b[start + 3] !== 0x50) return null;
  if (b[start + 4] !== 0x2f || b[start + 6] !== 0x2e) return null;
  const major = b[start + 5]! - 0x30;
  const minor = b[start + 7]! - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return null;
  return `${major}.${minor}`;
}

function parseFieldLine(kind: HeadKind, b: Uint8Array, start: number, end: number, headers: HeaderList): void {
  const c0 = b[start]!;
  // A line starting with whitespace is obs-fold (or, right after the start
  // line, a smuggling vector RFC 9112 section 2.2 tells us to reject).
  if (c0 === SP || c0 === HTAB) fail(kind, 'OBS_FOLD', 'obsolete line folding');
  let i = start;
  while (i < end && TCHAR[b[i]!] === 1) i++;
  if (i < end && (b[i] === SP || b[i] === HTAB)) {
    fail(kind, 'WHITESPACE_BEFORE_COLON', 'whitespace between header name and colon');
  }
  if (i === start || i >= end || b[i] !== COLON) fail(kind, 'BAD_HEADER_NAME', 'invalid header name');
  const name = latin1(b, start, i);
  i++;
  while (i < end && (b[i] === SP || b[i] === HTAB)) i++;
  let vEnd = end;
  while (vEnd > i && (b[vEnd - 1] === SP || b[vEnd - 1] === HTAB)) vEnd--;
  for (let j = i; j < vEnd; j++) {
    // Rejects NUL, other CTLs and DEL; HTAB, SP, VCHAR and obs-text pass.
    if (FIELD_CHAR[b[j]!] !== 1) fail(kind, 'BAD_HEADER_VALUE', 'invalid character in header value');
  }
  headers.append(name, latin1(b, i, vEnd));
}

// ---- request-target -------------------------------------------------------

// Path and query: any visible ASCII except '#' (a fragment is never sent). This
// is wider than RFC 3986 on purpose: browsers send '|', '^', '{', '[' etc.
// unencoded in paths and queries (WHATWG URL leaves them alone), and rejecting
// those would break real clients without making anything safer.
const PATH_CHAR = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) PATH_CHAR[c] = 1;
PATH_CHAR[0x23] = 0;
const AUTHORITY_CHAR = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:[]%") {
  AUTHORITY_CHAR[ch.charCodeAt(0)] = 1;
}
const ABSOLUTE_SCHEMES = ['http://', 'https://', 'ws://', 'wss://'];

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Path (and query) characters with well-formed percent-encoding: "%zz" would
 * make decodeURIComponent throw in whatever path policy the application runs.
 */
function isValidPathQuery(s: string, start: number, table: Uint8Array): boolean {
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || table[c] !== 1) return false;
    if (c === 0x25 /* % */) {
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
    }
  }
  return true;
}

/** Index of the authority's end in an absolute-form target, or -1 if `t` is not absolute-form we accept. */
function absoluteAuthority(t: string): [number, number] | null {
  const lower = t.slice(0, 8).toLowerCase();
  for (const scheme of ABSOLUTE_SCHEMES) {
    if (lower.startsWith(scheme)) {
      const a = scheme.length;
      let e = a;
      while (e < t.length && t.charCodeAt(e) !== 0x2f && t.charCodeAt(e) !== 0x3f) e++;
      return [a, e];
    }
  }
  return null;
}

/**
 * Accepts origin-form ("/path?query") and absolute-form with an http(s)/ws(s)
 * scheme (RFC 9112 section 3.2). Rejects asterisk- and authority-form, fragments,
 * controls, spaces and non-ASCII bytes,
 * malformed percent-encoding and userinfo. Note that origin-form may start
 * with "//" (valid, and browsers send it for ws://host//x): never resolve the
 * path as a relative URL reference, which would read it as a host.
 */
export function isValidTarget(t: string): boolean {
  if (t.charCodeAt(0) === 0x2f) return isValidPathQuery(t, 0, PATH_CHAR);
  const auth = absoluteAuthority(t);
  if (!auth) return false;
  const [a, e] = auth;
  if (e === a) return false;
  for (let i = a; i < e; i++) {
    const c = t.charCodeAt(i);
    if (c >= 128 || AUTHORITY_CHAR[c] !== 1) return false; // also rejects '@' (userinfo)
  }
  return isValidPathQuery(t, e, PATH_CHAR);
}

/** The path and query of a (valid) request-target; absolute-form is reduced to origin-form. */
export function targetPath(t: string): string {
  if (t.charCodeAt(0) === 0x2f) return t;
  const auth = absoluteAuthority(t);
  if (!auth) return t;
  const rest = t.slice(auth[1]);
  return rest.charCodeAt(0) === 0x2f ? rest : '/' + rest;
}
