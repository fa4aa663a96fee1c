/**
 * Deno's half of proxying (the protocols are the session's): TCP with Deno.connect, TLS over an open connection
 * with Deno.startTls, raw reads and writes for the tunnel exchange, and Deno.env for `proxy: 'env'`.
 *
 * Deno.startTls takes a TCP connection only, so TLS inside TLS (wss: through an https: proxy) runs over a
 * loopback TCP pair relayed to the outer TLS connection (tls-relay.ts).
 */
import { dialThroughProxy, type DialTarget, type ProxyEndpoint, type ProxyHop, type ProxyTransport, type TunnelIO } from '@streamsocket/session';
import { isTlsConn, TlsConnectError, type TlsClientOptions } from './dial.js';
import { loopbackOver } from './tls-relay.js';

/**
 * Deno's environment, read only when env access is already granted (`--allow-env` or `-A`): asking would prompt
 * on a terminal in the middle of a connect. Without the permission the environment counts as empty.
 */
export function denoEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync?.({ name: 'env', variable: name }).state !== 'granted') return undefined;
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    /* already closed */
  }
}

function connIO(conn: Deno.Conn): TunnelIO {
  return {
    async write(bytes) {
      let off = 0;
      while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
    },
    async read() {
      const buf = new Uint8Array(16 * 1024);
      const n = await conn.read(buf);
      return n === null ? null : buf.subarray(0, n);
    },
    release() {
      /* reads are pull-based: nothing to detach */
    },
  };
}

/** The transport for dialThroughProxy: `target` are the connection's TLS options, `proxy` the proxy hop's. */
export function denoProxyTransport(opts: { target: TlsClientOptions; proxy: TlsClientOptions }): ProxyTransport<Deno.TcpConn | Deno.TlsConn> {
  return {
    async tcp(hostname, port, signal) {
      const conn = await Deno.connect({ hostname, port, transport: 'tcp', signal });
      conn.setNoDelay(true);
      return conn;
    },
    async startTls(conn, hostname, port, hop: ProxyHop, signal) {
      const target: DialTarget = { hostname, port, secure: true };
      // TLS inside TLS (wss: through an https: proxy): Deno.startTls needs a TCP connection, so a loopback pair
      // relayed over the outer TLS connection stands in for it (tls-relay.ts).
      const tcp = isTlsConn(conn) ? await loopbackOver(conn) : conn;
      const o = hop === 'proxy' ? opts.proxy : opts.target;
      const t: Deno.StartTlsOptions = { hostname, alpnProtocols: ['http/1.1'] };
      if (o.ca !== undefined) t.caCerts = Array.isArray(o.ca) ? o.ca : [o.ca];
      if (o.rejectUnauthorized === false) t.unsafelyDisableHostnameVerification = true;
      let tls: Deno.TlsConn;
      try {
        tls = await Deno.startTls(tcp, t);
        const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        await Promise.race([tls.handshake(), aborted]);
      } catch (e) {
        closeQuietly(tcp);
        if (signal.aborted) throw signal.reason;
        throw new TlsConnectError(target, e, false);
      }
      return tls;
    },
    io: connIO,
    close: closeQuietly,
  };
}

export function dialViaProxy(proxy: ProxyEndpoint, target: DialTarget, opts: { target: TlsClientOptions; proxy: TlsClientOptions }, signal: AbortSignal): Promise<Deno.TcpConn | Deno.TlsConn> {
  return dialThroughProxy(proxy, target, denoProxyTransport(opts), signal);
}
