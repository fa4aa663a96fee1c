/**
 * Sec-WebSocket-Extensions (RFC 6455 section 9.1):
 *   extension-list = 1#extension
 *   extension      = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 * with the rule that a quoted-string value must unescape to a token. The parser
 * is a hand-written scanner (no regular expressions on peer input).
 */
import { HandshakeError } from './errors.js';
import { TCHAR, isToken } from './syntax.js';

export type ExtensionParams = Record<string, string | true>;
export interface ExtensionItem {
  name: string;
  params: ExtensionParams;
}

/**
 * What an extension implementation (permessage-deflate in codec) provides to
 * plug into the handshake. T is the agreement handed to the codec.
 */
export interface ExtensionNegotiator<T = unknown> {
  readonly name: string;
  /** Client: parameter sets to offer, preferred first. [] means "don't offer". */
  offer(): ExtensionParams[];
  /** Server: all offers for this extension, in client order. Returns the response params and agreement, or null to decline. */
  negotiate(offers: ExtensionParams[]): { response: ExtensionParams; agreement: T } | null;
  /** Client: checks the server's response params; throws HandshakeError if unacceptable. */
  confirm(response: ExtensionParams): T;
}

function bad(message: string): never {
  throw new HandshakeError(400, 'BAD_EXTENSIONS', message);
}

/** Sets an own enumerable property, safe even for names like "__proto__". */
export function setParam(params: ExtensionParams, name: string, value: string | true): void {
  Object.defineProperty(params, name, { value, enumerable: true, writable: true, configurable: true });
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

export interface ParseExtensionsOptions {
  /**
   * What a parameter given twice in one extension offer does. 'error' (the default, and what a client checking a
   * server's answer wants) throws 400. 'drop' leaves that one element out of the result, which is what a server
   * wants: RFC 7692 section 7.1 has the server decline an offer with a repeated parameter (and so fall back to the
   * client's next offer), not refuse the whole handshake.
   */
  duplicateParams?: 'error' | 'drop';
}

/** Parses a Sec-WebSocket-Extensions value (possibly joined from several lines). Throws HandshakeError(400). */
export function parseExtensions(value: string, opts: ParseExtensionsOptions = {}): ExtensionItem[] {
  const dropDuplicates = opts.duplicateParams === 'drop';
  const items: ExtensionItem[] = [];
  const n = value.length;
  let i = 0;
  const ows = (): void => {
    while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
  };
  const token = (): string => {
    const s = i;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c > 0xff || TCHAR[c] !== 1) break;
      i++;
    }
    return value.slice(s, i);
  };
  for (;;) {
    ows();
    if (i >= n) break;
    if (value.charCodeAt(i) === 0x2c) {
      i++; // empty list element, ignored (RFC 9110 section 5.6.1)
      continue;
    }
    const name = token();
    if (name === '') bad('invalid extension name');
    const params: ExtensionParams = {};
    let repeated = false;
    ows();
    while (i < n && value.charCodeAt(i) === 0x3b /* ; */) {
      i++;
      ows();
      const pname = token();
      if (pname === '') bad('invalid extension parameter name');
      ows();
      let pvalue: string | true = true;
      if (i < n && value.charCodeAt(i) === 0x3d /* = */) {
        i++;
        ows();
        if (i < n && value.charCodeAt(i) === 0x22 /* " */) {
          pvalue = quoted();
          if (!isToken(pvalue)) bad('quoted extension parameter value is not a token');
        } else {
          pvalue = token();
          if (pvalue === '') bad('invalid extension parameter value');
        }
        ows();
      }
      if (hasOwn(params, pname)) {
        if (!dropDuplicates) bad('duplicate extension parameter');
        repeated = true;
      } else {
        setParam(params, pname, pvalue);
      }
    }
    if (i < n && value.charCodeAt(i) !== 0x2c) bad('unexpected character in extension list');
    i++;
    if (!repeated) items.push({ name, params });
  }
  return items;

  function quoted(): string {
    // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    i++;
    let out = '';
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c === 0x5c /* \ */) {
        const d = value.charCodeAt(i + 1);
        if (!(d === 0x09 || (d >= 0x20 && d <= 0x7e) || (d >= 0x80 && d <= 0xff))) bad('invalid quoted-pair');
        out += value[i + 1];
        i += 2;
        continue;
      }
      if (!(c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff))) bad('invalid character in quoted-string');
      out += value[i];
      i++;
    }
    return bad('unterminated quoted-string');
  }
}

/**
 * Serialises extension items as "name; p; q=v, name2". Names, parameter names
 * and values must all be tokens (values are never quoted: RFC 6455 requires them
 * to be tokens anyway); anything else is a TypeError, since it would be header
 * injection or an unparseable response.
 */
export function serializeExtensions(items: ExtensionItem[]): string {
  const parts: string[] = [];
  for (const item of items) {
    if (!isToken(item.name)) throw new TypeError('extension name must be a token');
    let s = item.name;
    for (const key of Object.keys(item.params)) {
      const v = item.params[key];
      if (!isToken(key)) throw new TypeError('extension parameter name must be a token');
      if (v === true) s += `; ${key}`;
      else if (typeof v === 'string' && isToken(v)) s += `; ${key}=${v}`;
      else throw new TypeError('extension parameter value must be a token or true');
    }
    parts.push(s);
  }
  return parts.join(', ');
}

/** Groups offers by extension name (case-insensitive), keeping the client's order of first appearance. */
export function groupOffers(items: ExtensionItem[]): Map<string, ExtensionParams[]> {
  const groups = new Map<string, ExtensionParams[]>();
  for (const { name, params } of items) {
    const key = name.toLowerCase();
    const g = groups.get(key);
    if (g) g.push(params);
    else groups.set(key, [params]);
  }
  return groups;
}
