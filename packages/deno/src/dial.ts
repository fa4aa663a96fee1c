/**
 * Opens the TCP (ws:) or TLS (wss:) connection a client handshake runs over, with Deno.connect /
 * Deno.connectTls. Knows nothing about WebSocket: a host, a port and TLS options in, a connected (for TLS:
 * handshaken and verified) `Deno.Conn` out, or a rejection when `signal` aborts first (the connect timeout and
 * the user's signal, combined by the caller).
 */
import { formatHost, TlsConnectError, type DialTarget } from '@streamsocket/session';

export interface TlsClientOptions {
  /** Extra trusted CA certificate(s), PEM, added to Deno's root store (`caCerts`). */
  ca?: string | string[];
  /**
   * Default true. Deno cannot skip certificate-chain verification per connection: `false` here only turns off
   * the *hostname* check (`unsafelyDisableHostnameVerification`); an untrusted chain still fails unless Deno
   * runs with `--unsafely-ignore-certificate-errors`. Prefer passing `ca`.
   */
  rejectUnauthorized?: boolean;
  /** Client certificate chain and private key (PEM), for mutual TLS. */
  clientCert?: { cert: string; key: string };
}

export type { DialTarget };
export { formatHost, TlsConnectError };

/** Deno's TlsConn has handshake() and no setNoDelay(); its TcpConn the reverse. */
export function isTlsConn(conn: Deno.TcpConn | Deno.TlsConn): conn is Deno.TlsConn {
  return 'handshake' in conn;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * Settles with the connection, or rejects on abort. A connection that completes after the abort is closed at
 * once, so nothing leaks (Deno.connectTls takes no signal, so it cannot be stopped mid-way).
 */
function raceAbort<C extends Deno.Conn>(p: Promise<C>, signal: AbortSignal): Promise<C> {
  return new Promise<C>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (conn) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) {
          try {
            conn.close();
          } catch {
            /* already closed */
          }
          return;
        }
        settled = true;
        resolve(conn);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        reject(e);
      },
    );
  });
}

/** A TCP connection for ws:, a TLS one (handshake done) for wss:. */
export async function dial(target: DialTarget, opts: TlsClientOptions, signal: AbortSignal): Promise<Deno.TcpConn | Deno.TlsConn> {
  if (signal.aborted) throw abortError(signal);
  if (!target.secure) {
    const conn = await raceAbort(Deno.connect({ hostname: target.hostname, port: target.port, transport: 'tcp', signal }), signal);
    // Frames are written whole by the encoder (and coalesced by the binding): Nagle would only add latency.
    conn.setNoDelay(true);
    return conn;
  }
  const o: Deno.ConnectTlsOptions = {
    hostname: target.hostname,
    port: target.port,
    // We speak HTTP/1.1 only: make sure an h2-capable server does not pick h2.
    alpnProtocols: ['http/1.1'],
  };
  if (opts.ca !== undefined) o.caCerts = Array.isArray(opts.ca) ? opts.ca : [opts.ca];
  if (opts.rejectUnauthorized === false) o.unsafelyDisableHostnameVerification = true;
  const { clientCert } = opts;
  const conn = await raceAbort(Deno.connectTls(clientCert === undefined ? o : { ...o, cert: clientCert.cert, key: clientCert.key }), signal);
  try {
    // Run the TLS handshake now so that certificate errors surface here, as a connect error, rather than as an
    // anonymous read error in the middle of the WebSocket handshake.
    await raceAbort(
      conn.handshake().then(() => conn),
      signal,
    );
  } catch (e) {
    try {
      conn.close();
    } catch {
      /* already closed */
    }
    if (signal.aborted) throw abortError(signal);
    throw new TlsConnectError(target, e, false);
  }
  return conn;
}
