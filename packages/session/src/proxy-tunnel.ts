/**
 * Tunnels through a proxy: HTTP CONNECT (RFC 9110 §9.3.6, with `Proxy-Authorization: Basic`) and SOCKS5
 * (RFC 1928, with RFC 1929 username/password, the target's name resolved by the proxy). Both are a few bytes
 * each way over a connection the adapter opened, so they are written once here; each adapter supplies only
 * the TCP dial, TLS over an existing connection, and raw reads and writes on it (`ProxyTransport`).
 *
 * `dialThroughProxy` is the whole route: TCP to the proxy, TLS to it for an `https:` proxy (checked against the
 * proxy's name), the tunnel request, then TLS to the target inside the tunnel for `wss:` (checked against the
 * target's name). The connection it returns is the adapter's, ready for its usual byte binding.
 */
import { HeadReader } from '@streamsocket/handshake';
import type { DialTarget } from './dialing.js';
import { parseIPv4, parseIPv6 } from './ip-literal.js';
import type { ProxyEndpoint } from './proxy-env.js';

/** Which hop refused: the proxy itself (authentication, its rules), or the proxy's onward connection. */
export type ProxyHop = 'proxy' | 'target';

export type ProxyErrorCode =
  /** 407, or SOCKS5 asking for a method we lack: the proxy wants (other) credentials. */
  | 'PROXY_AUTH_REQUIRED'
  /** SOCKS5 username/password rejected (RFC 1929 status ≠ 0). */
  | 'PROXY_AUTH_FAILED'
  /** The proxy refused the tunnel: HTTP 4xx/5xx other than 407, SOCKS5 reply ≠ 0. */
  | 'PROXY_REFUSED'
  /** The proxy answered something that is not its protocol, or sent bytes past its reply. */
  | 'PROXY_PROTOCOL'
  /** The proxy closed the connection before answering. */
  | 'PROXY_CLOSED';

/** A proxy refused or broke the tunnel. `hop` says whether the proxy or the target behind it was the cause. */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly hop: ProxyHop;
  /** The proxy's URL without credentials. */
  readonly proxy: string;
  /** `host:port` the tunnel was asked for. */
  readonly target: string;
  /** The HTTP status the proxy answered (HTTP CONNECT), else undefined. */
  readonly status: number | undefined;
  /** The SOCKS5 reply code (RFC 1928 §6) or RFC 1929 status, else undefined. */
  readonly socksReply: number | undefined;
  constructor(
    message: string,
    init: { code: ProxyErrorCode; hop: ProxyHop; proxy: string; target: string; status?: number; socksReply?: number },
  ) {
    super(message);
    this.name = 'ProxyError';
    this.code = init.code;
    this.hop = init.hop;
    this.proxy = init.proxy;
    this.target = init.target;
    this.status = init.status;
    this.socksReply = init.socksReply;
  }
}

/** Raw bytes on a connection before it is bound: what the tunnel requests are exchanged over. */
export interface TunnelIO {
  write(bytes: Uint8Array): void | Promise<void>;
  /** Next chunk, or null at end of input. Rejects on a connection error. */
  read(): Promise<Uint8Array | null>;
  /** Stops reading for the tunnel (detaches listeners); the adapter's binding takes the connection over. */
  release(): void;
}

/** What an adapter supplies for proxying: connections are its own type `C` (net.Socket, Deno.Conn, Bun socket). */
export interface ProxyTransport<C> {
  /** TCP to host:port; rejects when `signal` aborts. */
  tcp(hostname: string, port: number, signal: AbortSignal): Promise<C>;
  /**
   * TLS over the open connection `conn`, verifying the peer against `hostname` with the options for `hop`
   * ('proxy': an https: proxy; 'target': wss: inside the tunnel). Resolves once the handshake is done.
   */
  startTls(conn: C, hostname: string, port: number, hop: ProxyHop, signal: AbortSignal): Promise<C>;
  io(conn: C): TunnelIO;
  /** Destroys the connection (both directions, now). */
  close(conn: C): void;
}

function hostPort(hostname: string, port: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
}

const enc = new TextEncoder();

function basicCredentials(user: string, pass: string): string {
  // RFC 7617: user-id ":" password, as UTF-8, base64.
  const bytes = enc.encode(`${user}:${pass}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Buffered reads of exact lengths over TunnelIO. */
class Input {
  private buf = new Uint8Array(0);
  constructor(
    private readonly io: TunnelIO,
    private readonly closed: () => ProxyError,
  ) {}
  async take(n: number): Promise<Uint8Array> {
    while (this.buf.byteLength < n) {
      const chunk = await this.io.read();
      if (chunk === null) throw this.closed();
      const joined = new Uint8Array(this.buf.byteLength + chunk.byteLength);
      joined.set(this.buf, 0);
      joined.set(chunk, this.buf.byteLength);
      this.buf = joined;
    }
    const out = this.buf.slice(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  get leftover(): number {
    return this.buf.byteLength;
  }
}

/** Maximum size of a CONNECT response head we read (a proxy's 200 is a line or two). */
const MAX_CONNECT_HEAD = 16 * 1024;

/** HTTP CONNECT over `io` to `target`; resolves once the proxy answered 2xx. */
export async function httpConnect(io: TunnelIO, proxy: ProxyEndpoint, target: { hostname: string; port: number }): Promise<void> {
  const authority = hostPort(target.hostname, target.port);
  const base = { proxy: proxy.display, target: authority };
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username !== '' || proxy.password !== '') {
    lines.push(`Proxy-Authorization: Basic ${basicCredentials(proxy.username, proxy.password)}`);
  }
  for (const [k, v] of proxy.headers) lines.push(`${k}: ${v}`);
  await io.write(enc.encode(`${lines.join('\r\n')}\r\n\r\n`));
  const reader = new HeadReader('response', { maxHeadSize: MAX_CONNECT_HEAD });
  for (;;) {
    const chunk = await io.read();
    if (chunk === null) {
      throw new ProxyError(`HTTP proxy ${proxy.display} closed the connection before answering CONNECT ${authority}`, { ...base, code: 'PROXY_CLOSED', hop: 'proxy' });
    }
    let r;
    try {
      r = reader.push(chunk);
    } catch (e) {
      throw new ProxyError(`HTTP proxy ${proxy.display} sent an invalid response to CONNECT ${authority}: ${(e as Error).message}`, { ...base, code: 'PROXY_PROTOCOL', hop: 'proxy' });
    }
    if (!r) continue;
    const { status, reason, headers } = r.head;
    if (status >= 200 && status < 300) {
      // Nothing may follow the 2xx before we speak (TLS and the WebSocket handshake are client-first).
      if (r.rest.byteLength > 0) {
        throw new ProxyError(`HTTP proxy ${proxy.display} sent ${r.rest.byteLength} bytes past its answer to CONNECT ${authority}`, { ...base, code: 'PROXY_PROTOCOL', hop: 'proxy', status });
      }
      return;
    }
    const what = `${status}${reason ? ` ${reason}` : ''}`;
    if (status === 407) {
      const challenge = headers.get('proxy-authenticate');
      const sent = proxy.username !== '' || proxy.password !== '';
      throw new ProxyError(
        `HTTP proxy ${proxy.display} refused CONNECT ${authority}: ${what}` +
          (sent ? ' (the credentials in the proxy URL were not accepted)' : ' (put user:password in the proxy URL)') +
          (challenge ? `; it asks for ${challenge}` : ''),
        { ...base, code: 'PROXY_AUTH_REQUIRED', hop: 'proxy', status },
      );
    }
    // 502/503/504 are the proxy reporting on its own onward connection; anything else is its own refusal.
    const hop: ProxyHop = status === 502 || status === 503 || status === 504 ? 'target' : 'proxy';
    throw new ProxyError(
      hop === 'target'
        ? `HTTP proxy ${proxy.display} could not reach ${authority}: ${what}`
        : `HTTP proxy ${proxy.display} refused CONNECT ${authority}: ${what}`,
      { ...base, code: 'PROXY_REFUSED', hop, status },
    );
  }
}

const SOCKS_REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** SOCKS5 CONNECT over `io` to `target`, the name resolved by the proxy; resolves once it replied success. */
export async function socks5Connect(io: TunnelIO, proxy: ProxyEndpoint, target: { hostname: string; port: number }): Promise<void> {
  const authority = hostPort(target.hostname, target.port);
  const base = { proxy: proxy.display, target: authority };
  const input = new Input(io, () => new ProxyError(`SOCKS5 proxy ${proxy.display} closed the connection during the handshake for ${authority}`, { ...base, code: 'PROXY_CLOSED', hop: 'proxy' }));
  const protocolError = (what: string): ProxyError =>
    new ProxyError(`SOCKS5 proxy ${proxy.display} broke the protocol: ${what}`, { ...base, code: 'PROXY_PROTOCOL', hop: 'proxy' });
  const user = enc.encode(proxy.username);
  const pass = enc.encode(proxy.password);
  const withAuth = user.byteLength > 0 || pass.byteLength > 0;
  if (user.byteLength > 255 || pass.byteLength > 255) throw new TypeError('SOCKS5 username and password are at most 255 bytes each');

  // Method selection: offer username/password only when we have credentials.
  await io.write(withAuth ? Uint8Array.of(5, 2, 0x00, 0x02) : Uint8Array.of(5, 1, 0x00));
  const [ver, method] = await input.take(2);
  if (ver !== 5) throw protocolError(`version ${ver} in its method selection`);
  if (method === 0xff) {
    throw new ProxyError(
      `SOCKS5 proxy ${proxy.display} accepted none of the offered authentication methods` +
        (withAuth ? '' : ' (it likely wants a username and password: put user:password in the proxy URL)'),
      { ...base, code: 'PROXY_AUTH_REQUIRED', hop: 'proxy' },
    );
  }
  if (method === 0x02) {
    if (!withAuth) throw protocolError('it chose username/password, which was not offered');
    const req = new Uint8Array(3 + user.byteLength + pass.byteLength);
    req[0] = 1;
    req[1] = user.byteLength;
    req.set(user, 2);
    req[2 + user.byteLength] = pass.byteLength;
    req.set(pass, 3 + user.byteLength);
    await io.write(req);
    const [aver, status] = await input.take(2);
    if (aver !== 1) throw protocolError(`username/password sub-negotiation version ${aver}`);
    if (status !== 0) {
      throw new ProxyError(`SOCKS5 proxy ${proxy.display} rejected username ${JSON.stringify(proxy.username)} (status ${status})`, {
        ...base, code: 'PROXY_AUTH_FAILED', hop: 'proxy', socksReply: status!,
      });
    }
  } else if (method !== 0x00) {
    throw protocolError(`it chose method ${method}, which was not offered`);
  }

  // CONNECT: IP literals as addresses, names as names for the proxy to resolve (socks5h behaviour).
  const v4 = parseIPv4(target.hostname);
  const v6 = v4 ? null : parseIPv6(target.hostname);
  let addr: Uint8Array;
  if (v4) addr = Uint8Array.of(1, ...v4);
  else if (v6) addr = Uint8Array.of(4, ...v6);
  else {
    const name = enc.encode(target.hostname);
    if (name.byteLength > 255) throw new TypeError('host name too long for SOCKS5 (255 bytes)');
    addr = Uint8Array.of(3, name.byteLength, ...name);
  }
  const req = new Uint8Array(3 + addr.byteLength + 2);
  req.set([5, 1, 0], 0);
  req.set(addr, 3);
  req[3 + addr.byteLength] = target.port >> 8;
  req[4 + addr.byteLength] = target.port & 0xff;
  await io.write(req);
  const [rver, rep, , atyp] = await input.take(4);
  if (rver !== 5) throw protocolError(`version ${rver} in its reply`);
  if (rep !== 0) {
    // 3-6 describe the proxy's onward connection; 1, 2, 7, 8 are the proxy's own refusal.
    const hop: ProxyHop = rep! >= 3 && rep! <= 6 ? 'target' : 'proxy';
    const why = SOCKS_REPLIES[rep!] ?? `reply ${rep}`;
    throw new ProxyError(
      hop === 'target'
        ? `SOCKS5 proxy ${proxy.display} could not reach ${authority}: ${why} (reply ${rep})`
        : `SOCKS5 proxy ${proxy.display} refused CONNECT ${authority}: ${why} (reply ${rep})`,
      { ...base, code: 'PROXY_REFUSED', hop, socksReply: rep! },
    );
  }
  // The bound address, which we do not need, then the port.
  if (atyp === 1) await input.take(4 + 2);
  else if (atyp === 4) await input.take(16 + 2);
  else if (atyp === 3) {
    const [len] = await input.take(1);
    await input.take(len! + 2);
  } else throw protocolError(`address type ${atyp} in its reply`);
  if (input.leftover > 0) throw protocolError(`${input.leftover} bytes past its reply`);
}

/**
 * Opens a connection to `target` through `proxy` with the adapter's transport: TCP (and TLS for an https:
 * proxy) to the proxy, the tunnel, then TLS to the target for wss:. On any failure or abort the connection is
 * destroyed before the rejection.
 */
export async function dialThroughProxy<C>(proxy: ProxyEndpoint, target: DialTarget, t: ProxyTransport<C>, signal: AbortSignal): Promise<C> {
  if (signal.aborted) throw signal.reason;
  let conn = await t.tcp(proxy.hostname, proxy.port, signal);
  const onAbort = (): void => t.close(conn);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (proxy.scheme === 'https:') conn = await t.startTls(conn, proxy.hostname, proxy.port, 'proxy', signal);
    const io = t.io(conn);
    try {
      if (proxy.scheme === 'socks5:' || proxy.scheme === 'socks5h:') await socks5Connect(io, proxy, target);
      else await httpConnect(io, proxy, target);
    } finally {
      io.release();
    }
    if (target.secure) conn = await t.startTls(conn, target.hostname, target.port, 'target', signal);
    if (signal.aborted) throw signal.reason;
    return conn;
  } catch (e) {
    t.close(conn);
    throw signal.aborted ? signal.reason : e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
