/**
 * Which proxy, if any, a client uses for a URL: an explicit `proxy` option, or the environment read the way curl
 * and undici read it. Runtime-free: the adapter passes a lookup function for the environment (process.env,
 * Deno.env, Bun.env), so nothing here touches a runtime global.
 *
 * Environment rules:
 * - `ws:` uses `http_proxy` then `HTTP_PROXY`; `wss:` uses `https_proxy` then `HTTPS_PROXY`; either falls back to
 *   `all_proxy` then `ALL_PROXY`. The lower-case name wins when both are set (curl and undici agree on that).
 *   `wss:` does not fall back to `HTTP_PROXY` (curl's rule; undici does), so a host set up for plain-HTTP proxying
 *   only does not see its TLS traffic rerouted.
 * - A value without a scheme means `http://` (curl); an empty value means "no proxy".
 * - `no_proxy` then `NO_PROXY`: entries separated by commas or white space. `*` alone disables proxying; a name
 *   matches itself and every subdomain (`example.com`, `.example.com` and `*.example.com` all match
 *   `example.com` and `a.example.com`); an IP literal matches itself (IPv6 with or without brackets); a CIDR
 *   block (`10.0.0.0/8`, `fd00::/8`) matches the addresses in it; `host:port` (`[::1]:8080`) matches that port only.
 *   Names are compared without case and without a trailing dot; no DNS lookup is made (a name never matches an
 *   IP entry).
 */
import { parseIPv4, parseIPv6 } from './ip-literal.js';

/** Reads one environment variable (undefined when unset or unreadable). */
export type EnvLookup = (name: string) => string | undefined;

/** The proxy protocols a client speaks: HTTP CONNECT over TCP or over TLS, and SOCKS5. */
export type ProxyScheme = 'http:' | 'https:' | 'socks5:' | 'socks5h:';

/** An explicit proxy, with what to send it beyond its URL. */
export interface ProxyConfig {
  /** `http://[user:pass@]host:port`, `https://...` (TLS to the proxy), `socks5://` or `socks5h://`. */
  url: string | URL;
  /** Extra headers for the HTTP CONNECT request (e.g. a bearer token some proxies want). Ignored for SOCKS5. */
  headers?: Record<string, string> | Array<[string, string]>;
  /** Hosts reached directly despite this proxy, in NO_PROXY syntax. */
  noProxy?: string;
}

/**
 * The `proxy` option: a proxy URL (string or URL), a ProxyConfig, `'env'` (the environment, as described
 * above) or `false` (always direct, also ignoring the environment).
 */
export type ProxyOption = string | URL | ProxyConfig | 'env' | false;

/** A resolved proxy: where it is, how to speak to it, and what to send. */
export interface ProxyEndpoint {
  scheme: ProxyScheme;
  /** Without brackets for IPv6 literals. */
  hostname: string;
  port: number;
  /** Percent-decoded credentials from the URL ('' when absent). */
  username: string;
  password: string;
  headers: Array<[string, string]>;
  /** The proxy's URL without credentials, for messages. */
  display: string;
}

const DEFAULT_PORTS: Record<ProxyScheme, number> = { 'http:': 80, 'https:': 443, 'socks5:': 1080, 'socks5h:': 1080 };

function isProxyScheme(s: string): s is ProxyScheme {
  return s === 'http:' || s === 'https:' || s === 'socks5:' || s === 'socks5h:';
}

/** Parses a proxy URL; throws a TypeError naming the problem (unsupported scheme, no host, a path). */
export function parseProxyUrl(input: string | URL, headers: ProxyConfig['headers'] = []): ProxyEndpoint {
  const text = typeof input === 'string' ? input.trim() : input.href;
  let url: URL;
  try {
    // curl's rule: a proxy given without a scheme is an HTTP proxy.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new TypeError(`invalid proxy URL ${JSON.stringify(text)}`);
  }
  const scheme = url.protocol;
  if (!isProxyScheme(scheme)) {
    throw new TypeError(`unsupported proxy scheme ${scheme} in ${JSON.stringify(text)} (http:, https:, socks5: and socks5h: are)`);
  }
  if (url.hostname === '') throw new TypeError(`proxy URL ${JSON.stringify(text)} has no host`);
  let hostname = url.hostname;
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port);
  const list: Array<[string, string]> = Array.isArray(headers) ? headers.map(([k, v]) => [k, v]) : Object.entries(headers);
  for (const [k, v] of list) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new TypeError(`invalid proxy header name ${JSON.stringify(k)}`);
    if (/[\r\n\0]/.test(v)) throw new TypeError(`invalid value for proxy header ${k}`);
  }
  return {
    scheme,
    hostname,
    port,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    headers: list,
    display: `${scheme}//${url.host}`,
  };
}

function envValue(env: EnvLookup, lower: string): string | undefined {
  const v = env(lower) ?? env(lower.toUpperCase());
  return v === undefined ? undefined : v.trim();
}

/** The proxy URL the environment names for `target`, or null (none, or NO_PROXY matches). */
export function proxyUrlFromEnv(target: URL, env: EnvLookup): string | null {
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const value = envValue(env, secure ? 'https_proxy' : 'http_proxy') || envValue(env, 'all_proxy');
  if (!value) return null;
  const noProxy = envValue(env, 'no_proxy');
  if (noProxy && matchesNoProxy(noProxy, target)) return null;
  return value;
}

/**
 * The proxy for `target`, or null for a direct connection. `option` undefined means `defaultOption` (each
 * adapter's default: the environment or direct, see its README).
 */
export function resolveProxy(
  target: URL,
  option: ProxyOption | undefined,
  env: EnvLookup | undefined,
  defaultOption: ProxyOption = false,
): ProxyEndpoint | null {
  const o = option ?? defaultOption;
  if (o === false) return null;
  if (o === 'env') {
    const v = env ? proxyUrlFromEnv(target, env) : null;
    return v ? parseProxyUrl(v) : null;
  }
  if (typeof o === 'string' || o instanceof URL) return parseProxyUrl(o);
  if (o.noProxy !== undefined && matchesNoProxy(o.noProxy, target)) return null;
  return parseProxyUrl(o.url, o.headers);
}

function targetPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'wss:' || url.protocol === 'https:' ? 443 : 80;
}

function normaliseName(h: string): string {
  let s = h.toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  while (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

/** Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal (which cannot carry a port). */
function splitEntry(entry: string): { host: string; port: number | null } {
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (br) return { host: br[1]!, port: br[2] !== undefined ? Number(br[2]) : null };
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const i = entry.indexOf(':');
    const port = entry.slice(i + 1);
    if (/^\d+$/.test(port)) return { host: entry.slice(0, i), port: Number(port) };
  }
  return { host: entry, port: null };
}

function addressBytes(host: string): Uint8Array | null {
  return parseIPv4(host) ?? parseIPv6(host);
}

function inCidr(addr: Uint8Array, net: Uint8Array, bits: number): boolean {
  if (addr.length !== net.length || bits > addr.length * 8) return false;
  for (let i = 0; i < addr.length; i++) {
    const take = Math.min(8, Math.max(0, bits - i * 8));
    if (take === 0) return true;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((addr[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

/** Whether `target` is exempt from proxying under a NO_PROXY value (rules in the module comment). */
export function matchesNoProxy(noProxy: string, target: URL): boolean {
  const host = normaliseName(target.hostname);
  const port = targetPort(target);
  const addr = addressBytes(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (raw === '') continue;
    if (raw === '*') return true;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(raw);
    if (cidr) {
      const net = addressBytes(normaliseName(cidr[1]!));
      if (addr && net && inCidr(addr, net, Number(cidr[2]))) return true;
      continue;
    }
    const { host: h, port: p } = splitEntry(raw);
    if (p !== null && p !== port) continue;
    let name = normaliseName(h);
    if (name.startsWith('*.')) name = name.slice(1);
    if (name.startsWith('.')) name = name.slice(1);
    if (name === '') continue;
    const entryAddr = addressBytes(name);
    if (entryAddr || addr) {
      if (entryAddr && addr && entryAddr.length === addr.length && entryAddr.every((b, i) => b === addr[i])) return true;
      continue;
    }
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** Throws the TypeError parseProxyUrl would for an explicit proxy option, so connect() can throw synchronously. */
export function validateProxyOption(option: ProxyOption | undefined): void {
  if (option === undefined || option === false || option === 'env') return;
  if (typeof option === 'string' || option instanceof URL) parseProxyUrl(option);
  else parseProxyUrl(option.url, option.headers);
}
