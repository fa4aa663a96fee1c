/**
 * Client side of the opening handshake: building the request for a ws:/wss:
 * URL (RFC 6455 section 4.1, WHATWG WebSocket URL rules) and validating the
 * server's response. User-supplied header names/values, origin and protocols
 * are validated before anything is built, so no input can inject a header line.
 */
import { computeAccept } from './accept.js';
import { base64Decode, base64Encode } from './base64.js';
import { HandshakeError, STATUS_TEXT } from './errors.js';
import { parseExtensions, serializeExtensions, type ExtensionItem, type ExtensionNegotiator } from './extensions.js';
import { isValidTarget, type ResponseHead } from './http11.js';
import { checkClientProtocols, parseProtocols } from './protocols.js';
import { checkHeaders } from './server.js';
import { encodeLatin1, hasToken } from './syntax.js';

export interface ClientRequestOptions {
  origin?: string;
  protocols?: string[];
  extensions?: ExtensionNegotiator[];
  headers?: Array<[string, string]> | Record<string, string>;
  /** Fixed Sec-WebSocket-Key, for tests only (must be base64 of 16 bytes). */
  key?: string;
}

export interface ClientRequest {
  url: URL;
  secure: boolean;
  /** Host name without IPv6 brackets. */
  hostname: string;
  port: number;
  /** Path plus query. */
  path: string;
  key: string;
  expectedAccept: string;
  protocols: string[];
  /** The negotiators that actually offered something (in offer order). */
  extensions: ExtensionNegotiator[];
  /** The request head to write. */
  bytes: Uint8Array;
}

/** Headers the handshake itself owns; a user-given duplicate would make the request invalid or ambiguous. */
const RESERVED = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
  'origin',
  'content-length',
  'transfer-encoding',
]);

/** Parses and normalises the URL like the WebSocket constructor does; SyntaxError on anything unusable. */
function wsUrl(input: string | URL): URL {
  let url: URL;
  const text = String(input);
  try {
    url = new URL(text);
  } catch {
    throw new SyntaxError(`invalid URL: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new SyntaxError(`URL scheme must be ws: or wss: (${displayUrl(url)})`);
  // href keeps a trailing '#' even for an empty fragment, which the API also rejects.
  if (url.href.includes('#')) throw new SyntaxError(`URL must not contain a fragment (${displayUrl(url)})`);
  return url;
}

/** A URL for error messages: its password replaced, so credentials in a URL do not end up in logs. */
export function displayUrl(url: URL): string {
  if (url.password === '') return url.href;
  const u = new URL(url.href);
  u.password = '***';
  return u.href;
}

/**
 * Builds the opening request. Throws SyntaxError for a bad URL or bad
 * protocols (like the WebSocket API), TypeError for bad headers, origin or key.
 * Credentials in the URL are ignored (not sent).
 */
export function buildClientRequest(input: string | URL, opts: ClientRequestOptions = {}): ClientRequest {
  const url = wsUrl(input);
  const secure = url.protocol === 'wss:';
  const host = url.hostname;
  const hostname = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const path = (url.pathname || '/') + url.search;
  // WHATWG URL keeps malformed escapes such as "%zz"; servers (ours included) reject them.
  if (!isValidTarget(path)) throw new SyntaxError('URL path has malformed percent-encoding');

  const protocols = checkClientProtocols(opts.protocols ?? []);
  const user: Array<[string, string]> = Array.isArray(opts.headers)
    ? opts.headers.map(([n, v]) => [n, v])
    : Object.entries(opts.headers ?? {});
  checkHeaders(user);
  for (const [n] of user) {
    if (RESERVED.has(n.toLowerCase())) throw new TypeError('header is set by the handshake and cannot be overridden');
  }

  let key: string;
  if (opts.key !== undefined) {
    if (base64Decode(opts.key)?.length !== 16) throw new TypeError('key must be base64 of 16 bytes');
    key = opts.key;
  } else {
    key = base64Encode(crypto.getRandomValues(new Uint8Array(16)));
  }

  // url.host already omits the scheme's default port and brackets IPv6 literals.
  const headers: Array<[string, string]> = [
    ['Host', url.host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
  if (opts.origin !== undefined) headers.push(['Origin', opts.origin]);
  if (protocols.length > 0) headers.push(['Sec-WebSocket-Protocol', protocols.join(', ')]);

  const offered: ExtensionNegotiator[] = [];
  const items: ExtensionItem[] = [];
  for (const neg of opts.extensions ?? []) {
    const alternatives = neg.offer();
    if (alternatives.length === 0) continue;
    offered.push(neg);
    for (const params of alternatives) items.push({ name: neg.name, params });
  }
  if (items.length > 0) headers.push(['Sec-WebSocket-Extensions', serializeExtensions(items)]);
  checkHeaders(headers); // origin is user input too
  headers.push(...user);

  let head = `GET ${path} HTTP/1.1\r\n`;
  for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
  head += '\r\n';
  return {
    url,
    secure,
    hostname,
    port,
    path,
    key,
    expectedAccept: computeAccept(key),
    protocols,
    extensions: offered,
    bytes: encodeLatin1(head),
  };
}

/**
 * Validates the server's response to `req` (RFC 6455 section 4.1, client
 * requirements 1-6). Throws HandshakeError whose status is the response's
 * status and whose code says what was wrong:
 * UNEXPECTED_STATUS, BAD_HTTP_VERSION, BAD_UPGRADE, BAD_CONNECTION, BODY_NOT_ALLOWED,
 * BAD_ACCEPT, BAD_PROTOCOL, PROTOCOL_NOT_OFFERED, BAD_EXTENSIONS,
 * EXTENSION_NOT_OFFERED, EXTENSION_REPEATED, or a negotiator's own code.
 */
export function validateResponse(
  req: ClientRequest,
  res: ResponseHead,
): { protocol: string; extensions: string; agreements: Map<string, unknown> } {
  const status = res.status;
  // Every message names the URL and the status: what a user needs to tell which server said what.
  const where = `${displayUrl(req.url)}, HTTP ${status}`;
  const fail = (code: string, message: string): never => {
    throw new HandshakeError(status, code, `${message} (${where})`);
  };
  const h = res.headers;
  if (status !== 101) {
    const text = STATUS_TEXT[status];
    throw new HandshakeError(status, 'UNEXPECTED_STATUS', `${displayUrl(req.url)} refused the WebSocket handshake: HTTP ${status}${text ? ` ${text}` : ''} instead of 101 Switching Protocols`);
  }
  const [major, minor] = res.version.split('.').map(Number) as [number, number | undefined];
  if (major !== 1 || minor === undefined || !(minor >= 1)) fail('BAD_HTTP_VERSION', 'response is not HTTP/1.1');
  if (!hasToken(h.get('upgrade'), 'websocket')) fail('BAD_UPGRADE', 'Upgrade header must be "websocket"');
  if (!hasToken(h.get('connection'), 'upgrade')) fail('BAD_CONNECTION', 'Connection header must contain "Upgrade"');
  const cl = h.get('content-length');
  if (h.has('transfer-encoding') || (cl !== undefined && !/^0+$/.test(cl))) {
    fail('BODY_NOT_ALLOWED', 'a 101 response must not announce a body');
  }
  const accepts = h.getAll('sec-websocket-accept');
  if (accepts.length !== 1 || accepts[0] !== req.expectedAccept) fail('BAD_ACCEPT', 'Sec-WebSocket-Accept mismatch');

  let protocol = '';
  const ph = h.get('sec-websocket-protocol');
  if (ph !== undefined) {
    let list: string[] = [];
    try {
      list = parseProtocols(ph);
    } catch {
      fail('BAD_PROTOCOL', 'invalid Sec-WebSocket-Protocol');
    }
    if (list.length !== 1) fail('BAD_PROTOCOL', 'server must select exactly one subprotocol');
    protocol = list[0]!;
    if (!req.protocols.includes(protocol)) fail('PROTOCOL_NOT_OFFERED', 'server selected a subprotocol that was not offered');
  }

  const agreements = new Map<string, unknown>();
  const eh = h.get('sec-websocket-extensions');
  let extensions = '';
  if (eh !== undefined) {
    let items: ExtensionItem[] = [];
    try {
      items = parseExtensions(eh);
    } catch {
      fail('BAD_EXTENSIONS', 'invalid Sec-WebSocket-Extensions');
    }
    for (const item of items) {
      const name = item.name.toLowerCase();
      const neg = req.extensions.find((x) => x.name.toLowerCase() === name);
      if (!neg) fail('EXTENSION_NOT_OFFERED', 'server accepted an extension that was not offered');
      else {
        if (agreements.has(neg.name)) fail('EXTENSION_REPEATED', 'server accepted an extension twice');
        try {
          agreements.set(neg.name, neg.confirm(item.params));
        } catch (e) {
          if (e instanceof HandshakeError) throw new HandshakeError(status, e.code, e.message, e.headers);
          throw e;
        }
      }
    }
    extensions = eh;
  }
  return { protocol, extensions, agreements };
}
