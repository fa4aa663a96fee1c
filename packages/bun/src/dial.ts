/**
 * Opens the TCP (ws:) or TLS (wss:) connection a client handshake runs over, with Bun.connect. Knows nothing
 * about WebSocket: a host, a port and TLS options in, a bound, connected (for TLS: handshaken and verified)
 * socket out, or a rejection when `signal` aborts first (the connect timeout and the user's signal, combined by
 * the caller).
 */
import type * as Bun from './bun-api.js';
import { bunRuntime } from './bun-api.js';
import { formatHost, TlsConnectError, type DialTarget } from '@streamsocket/session';
import { SocketBinding, socketHandlers, type SocketChannelOptions } from './socket-channel.js';

export interface TlsClientOptions {
  /** Trusted CA certificate(s), PEM. Default: Bun's bundled root store. */
  ca?: string | string[];
  /** Verify the server certificate (chain and name). Default true. Disabling it makes wss: as weak as ws:. */
  rejectUnauthorized?: boolean;
  /** SNI name and the name the certificate is checked against. Default: the URL's host (never an IP literal). */
  servername?: string;
  /** Client certificate chain and private key (PEM), for mutual TLS. */
  clientCert?: { cert: string; key: string };
}

export type { DialTarget };
export { formatHost, TlsConnectError };


const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIpLiteral = (h: string): boolean => h.includes(':') || IPV4.test(h);

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

export function dial(
  target: DialTarget,
  opts: TlsClientOptions,
  signal: AbortSignal,
  streams: SocketChannelOptions = {},
): Promise<SocketBinding> {
  return new Promise<SocketBinding>((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const binding = new SocketBinding(streams);
    let settled = false;
    let socket: Bun.Socket<SocketBinding> | null = null;
    const settle = (err: unknown, ok?: boolean): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (ok) return resolve(binding);
      binding.destroy();
      reject(err);
    };
    const onAbort = (): void => settle(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });

    let tls: Bun.TLSOptions | undefined;
    if (target.secure) {
      // Always name rejectUnauthorized: Bun treats an empty `tls: {}` as no TLS options at all and never calls the
      // handshake handler (a wss: dial to an IP literal with no other option hung until the connect timeout).
      tls = { rejectUnauthorized: opts.rejectUnauthorized ?? true };
      const servername = opts.servername ?? (isIpLiteral(target.hostname) ? undefined : target.hostname);
      if (servername !== undefined) tls.serverName = servername;
      if (opts.ca !== undefined) tls.ca = opts.ca;
      if (opts.clientCert !== undefined) {
        tls.cert = opts.clientCert.cert;
        tls.key = opts.clientCert.key;
      }
    }
    const attach = (s: Bun.Socket<SocketBinding>): void => {
      if (socket) return;
      socket = s;
      binding.attach(s);
      if (settled) binding.destroy(); // aborted while connecting: do not leak the socket
    };
    bunRuntime().connect<SocketBinding>({
      hostname: target.hostname,
      port: target.port,
      // We half-close after our close frame and keep reading: Bun must not close on the peer's FIN either.
      allowHalfOpen: true,
      data: binding,
      ...(tls ? { tls } : {}),
      socket: {
        ...socketHandlers,
        open(s) {
          attach(s);
          // Frames are written whole by the encoder: Nagle would only add latency to small messages.
          s.setNoDelay?.(true);
          if (!target.secure) settle(null, true);
        },
        handshake(s, success, authorizationError) {
          attach(s);
          if (success || opts.rejectUnauthorized === false) return settle(null, true);
          const err = authorizationError ?? new Error('certificate verification failed');
          settle(new TlsConnectError(target, err as Error & { code?: string }));
        },
        connectError(_s, err) {
          settle(err);
        },
        close(s, err) {
          // Closed before it was usable (e.g. TLS failure reported without a handshake callback).
          if (!settled) settle(err ?? new Error(`connection to ${formatHost(target)} closed during connect`));
          socketHandlers.close!(s, err);
        },
      },
    }).then(attach, (e: unknown) => settle(e));
  });
}
