/**
 * Server side of the opening handshake: RFC 6455 section 4.2.1 validation,
 * policy checks (path, origin, subprotocol, extensions) and the response bytes.
 *
 * Check order (first failure wins) and the status each one answers:
 *   method GET ........................ 405 METHOD_NOT_ALLOWED (+ Allow: GET)
 *   HTTP/1.1 or later 1.x ............. 505 BAD_HTTP_VERSION
 *   exactly one Host .................. 400 MISSING_HOST / BAD_HOST
 *   no body (Transfer-Encoding, Content-Length other than 0) ... 400 BODY_NOT_ALLOWED
 *   Upgrade has token "websocket" ..... 400 BAD_UPGRADE
 *   Connection has token "upgrade" .... 400 BAD_CONNECTION
 *   Sec-WebSocket-Version: 13 ......... 426 BAD_VERSION (+ Sec-WebSocket-Version: 13)
 *   Sec-WebSocket-Key 16 bytes ........ 400 BAD_KEY
 *   path policy ....................... 404 NOT_FOUND
 *   origin policy ..................... 403 FORBIDDEN_ORIGIN
 *   Sec-WebSocket-Protocol syntax ..... 400 BAD_PROTOCOL / DUPLICATE_PROTOCOL
 *   protocol callback picked an unoffered one ... 500 BAD_PROTOCOL_SELECTION
 *   Sec-WebSocket-Extensions syntax ... 400 BAD_EXTENSIONS; a negotiator's HandshakeError as thrown
 */
import { computeAccept } from './accept.js';
import { base64Decode } from './base64.js';
import { HandshakeError, STATUS_TEXT } from './errors.js';
import {
  groupOffers,
  parseExtensions,
  serializeExtensions,
  type ExtensionItem,
  type ExtensionNegotiator,
} from './extensions.js';
import { targetPath, type RequestHead } from './http11.js';
import { parseProtocols } from './protocols.js';
import { encodeLatin1, hasToken, isFieldValue, isToken } from './syntax.js';

export interface ServerPolicy {
  /** Allowed origins (exact match, ASCII case-insensitive; a request without Origin fails) or a predicate. Fail -> 403. */
  origins?: string[] | ((origin: string | undefined, req: RequestHead) => boolean);
  /** Supported subprotocols in server preference order, or a selector. */
  protocols?: string[] | ((offered: string[], req: RequestHead) => string | null | undefined);
  /** Extensions the server supports. */
  extensions?: ExtensionNegotiator[];
  /** Exact path (without query) or a predicate on the path (with query). Fail -> 404. */
  path?: string | ((path: string) => boolean);
}

export interface AcceptedHandshake {
  request: RequestHead;
  /** request-target reduced to origin-form: path plus query. */
  path: string;
  origin: string | undefined;
  key: string;
  accept: string;
  /** Selected subprotocol, '' if none. */
  protocol: string;
  /** Sec-WebSocket-Extensions response value, '' if none. */
  extensions: string;
  /** Extension name -> agreement (e.g. DeflateAgreement). */
  agreements: Map<string, unknown>;
}

export type HandshakeResult = { ok: true; handshake: AcceptedHandshake } | { ok: false; error: HandshakeError };

function err(status: number, code: string, message: string, headers: Array<[string, string]> = []): HandshakeResult {
  return { ok: false, error: new HandshakeError(status, code, message, headers) };
}

/** Host = uri-host [ ":" port ]: rejects empty values, whitespace, userinfo and other junk. */
function isValidHost(h: string): boolean {
  if (h.length === 0 || h.length > 255) return false;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d || c === 0x2e || c === 0x3a || c === 0x5b || c === 0x5d || c === 0x5f || c === 0x7e || c === 0x25;
    if (!ok) return false;
  }
  return true;
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/**
 * Validates a parsed request as a WebSocket opening handshake and applies the
 * policy. Never throws for bad input: failures come back as { ok: false, error }
 * (errors thrown by policy callbacks other than HandshakeError propagate).
 */
export function validateRequest(req: RequestHead, policy: ServerPolicy = {}): HandshakeResult {
  try {
    return validate(req, policy);
  } catch (e) {
    if (e instanceof HandshakeError) return { ok: false, error: e };
    throw e;
  }
}

function validate(req: RequestHead, policy: ServerPolicy): HandshakeResult {
  const h = req.headers;
  if (req.method !== 'GET') return err(405, 'METHOD_NOT_ALLOWED', 'WebSocket handshake requires GET', [['Allow', 'GET']]);
  const [major, minor] = req.version.split('.').map(Number) as [number, number | undefined];
  if (major !== 1 || minor === undefined || !(minor >= 1)) {
    return err(505, 'BAD_HTTP_VERSION', 'WebSocket handshake requires HTTP/1.1');
  }
  const hosts = h.getAll('host');
  if (hosts.length === 0) return err(400, 'MISSING_HOST', 'missing Host header');
  if (hosts.length > 1 || !isValidHost(hosts[0]!)) return err(400, 'BAD_HOST', 'invalid Host header');
  // A body on an upgrade request would be read as WebSocket frames: smuggling.
  if (h.has('transfer-encoding')) return err(400, 'BODY_NOT_ALLOWED', 'Transfer-Encoding not allowed on upgrade');
  const cl = h.get('content-length');
  if (cl !== undefined && !/^0+$/.test(cl)) return err(400, 'BODY_NOT_ALLOWED', 'request body not allowed on upgrade');
  if (!hasToken(h.get('upgrade'), 'websocket')) return err(400, 'BAD_UPGRADE', 'Upgrade header must contain "websocket"');
  if (!hasToken(h.get('connection'), 'upgrade')) return err(400, 'BAD_CONNECTION', 'Connection header must contain "Upgrade"');
  const versions = h.getAll('sec-websocket-version');
  if (versions.length !== 1 || versions[0] !== '13') {
    return err(426, 'BAD_VERSION', 'unsupported Sec-WebSocket-Version', [['Sec-WebSocket-Version', '13']]);
  }
  const keys = h.getAll('sec-websocket-key');
  const key = keys[0];
  if (keys.length !== 1 || key === undefined || base64Decode(key)?.length !== 16) {
    return err(400, 'BAD_KEY', 'Sec-WebSocket-Key must be base64 of 16 bytes');
  }

  const path = targetPath(req.target);
  if (policy.path !== undefined) {
    const ok = typeof policy.path === 'string' ? pathOnly(path) === policy.path : policy.path(path);
    if (!ok) return err(404, 'NOT_FOUND', 'no WebSocket endpoint at this path');
  }

  const origins = h.getAll('origin');
  if (origins.length > 1) return err(400, 'BAD_ORIGIN', 'duplicate Origin header');
  const origin = origins[0];
  if (policy.origins !== undefined) {
    let ok: boolean;
    if (typeof policy.origins === 'function') ok = policy.origins(origin, req) === true;
    else {
      const o = origin?.toLowerCase();
      ok = o !== undefined && policy.origins.some((a) => a.toLowerCase() === o);
    }
    if (!ok) return err(403, 'FORBIDDEN_ORIGIN', 'origin not allowed');
  }

  const protocolHeader = h.get('sec-websocket-protocol');
  const offered = protocolHeader === undefined ? [] : parseProtocols(protocolHeader);
  let protocol = '';
  if (offered.length > 0 && policy.protocols !== undefined) {
    if (typeof policy.protocols === 'function') {
      const chosen = policy.protocols(offered, req);
      if (chosen !== null && chosen !== undefined && chosen !== '') {
        // Answering an unoffered protocol makes every conforming client fail;
        // surface the server bug instead of silently sending it or hiding it.
        if (!offered.includes(chosen)) {
          return err(500, 'BAD_PROTOCOL_SELECTION', 'selected subprotocol was not offered');
        }
        protocol = chosen;
      }
    } else {
      protocol = policy.protocols.find((p) => offered.includes(p)) ?? '';
    }
  }

  const agreements = new Map<string, unknown>();
  let extensions = '';
  const extHeader = h.get('sec-websocket-extensions');
  if (extHeader !== undefined) {
    const groups = groupOffers(parseExtensions(extHeader, { duplicateParams: 'drop' }));
    const accepted: ExtensionItem[] = [];
    const negotiators = policy.extensions ?? [];
    // Client order of first appearance decides the response (= processing) order.
    for (const [name, offers] of groups) {
      const neg = negotiators.find((x) => x.name.toLowerCase() === name);
      if (!neg) continue;
      const r = neg.negotiate(offers);
      if (r === null) continue;
      accepted.push({ name: neg.name, params: r.response });
      agreements.set(neg.name, r.agreement);
    }
    extensions = serializeExtensions(accepted);
  }

  return {
    ok: true,
    handshake: { request: req, path, origin, key, accept: computeAccept(key), protocol, extensions, agreements },
  };
}

/** Throws TypeError unless every header is a token name with a safe value (no CR/LF/NUL: header injection). */
export function checkHeaders(headers: Array<[string, string]>): void {
  for (const [n, v] of headers) {
    if (typeof n !== 'string' || !isToken(n)) throw new TypeError('header name must be a token');
    if (typeof v !== 'string' || !isFieldValue(v)) throw new TypeError('invalid header value');
  }
}

function headLines(start: string, headers: Array<[string, string]>): string {
  let s = start + '\r\n';
  for (const [n, v] of headers) s += `${n}: ${v}\r\n`;
  return s + '\r\n';
}

/** The 101 response for an accepted handshake. Extra headers are validated (TypeError) and appended. */
export function buildAcceptResponse(hs: AcceptedHandshake, extraHeaders: Array<[string, string]> = []): Uint8Array {
  const headers: Array<[string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', hs.accept],
  ];
  if (hs.protocol !== '') headers.push(['Sec-WebSocket-Protocol', hs.protocol]);
  if (hs.extensions !== '') headers.push(['Sec-WebSocket-Extensions', hs.extensions]);
  checkHeaders(headers);
  checkHeaders(extraHeaders);
  return encodeLatin1(headLines('HTTP/1.1 101 Switching Protocols', headers.concat(extraHeaders)));
}

/**
 * An error response that closes the connection: `Connection: close`,
 * `Content-Type: text/plain; charset=utf-8`, `Content-Length` and a short body
 * (default: the reason phrase). Throws TypeError/RangeError on bad arguments.
 */
export function buildErrorResponse(
  status: number,
  opts: { reason?: string; headers?: Array<[string, string]>; body?: string } = {},
): Uint8Array {
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError('status must be 200-599');
  const reason = opts.reason ?? STATUS_TEXT[status] ?? 'Error';
  if (!isFieldValue(reason)) throw new TypeError('invalid reason phrase');
  const extra = opts.headers ?? [];
  checkHeaders(extra);
  const body = new TextEncoder().encode(opts.body ?? `${reason}\n`);
  const head = encodeLatin1(
    headLines(`HTTP/1.1 ${status} ${reason}`, [
      ['Connection', 'close'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(body.length)],
      ...extra,
    ]),
  );
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** buildErrorResponse for a HandshakeError: its status, headers, and its message as the body. */
export function errorResponse(e: HandshakeError): Uint8Array {
  const status = e.status >= 200 && e.status <= 599 ? e.status : 400;
  return buildErrorResponse(status, { headers: e.headers, body: `${e.message}\n` });
}
