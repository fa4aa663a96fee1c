/**
 * Opens the TCP (ws:) or TLS (wss:) connection a client handshake runs over. Knows nothing about WebSocket:
 * it takes a host, a port and TLS options and resolves with a connected (for TLS: verified) socket, or rejects
 * when `signal` aborts first (the caller's connect timeout and user signal, combined).
 */
import { TlsConnectError, type DialTarget } from '@streamsocket/session';
import net from 'node:net';
import tls from 'node:tls';

export interface TlsClientOptions {
  /** Trusted CA certificate(s), PEM. Default: Node's bundled root store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the server certificate (chain and name). Default true. Disabling it makes wss: as weak as ws:. */
  rejectUnauthorized?: boolean;
  /** SNI name and the name the certificate is checked against. Default: the URL's host (never an IP literal). */
  servername?: string;
  /** Any other `tls.connect` option (client certificate, ciphers, minVersion ...). Applied first. */
  tls?: tls.ConnectionOptions;
}

export type { DialTarget };
export { TlsConnectError };


export function dial(target: DialTarget, opts: TlsClientOptions, signal: AbortSignal): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let socket: net.Socket;
    const connectEvent = target.secure ? 'secureConnect' : 'connect';
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(signal.reason);
    };
    const onError = (err: Error & { code?: string }): void => {
      cleanup();
      socket.destroy();
      reject(target.secure && isTlsError(err) ? new TlsConnectError(target, err) : err);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(connectEvent, onConnect);
    };
    if (target.secure) {
      const servername = opts.servername ?? (net.isIP(target.hostname) ? undefined : target.hostname);
      const o: tls.ConnectionOptions = {
        ...opts.tls,
        host: target.hostname,
        port: target.port,
        // We speak HTTP/1.1 only: make sure an h2-capable server does not pick h2.
        ALPNProtocols: ['http/1.1'],
      };
      if (servername !== undefined) o.servername = servername;
      if (opts.ca !== undefined) o.ca = opts.ca;
      if (opts.rejectUnauthorized !== undefined) o.rejectUnauthorized = opts.rejectUnauthorized;
      socket = tls.connect(o);
    } else {
      socket = net.connect({ host: target.hostname, port: target.port });
    }
    // Frames are written whole by the encoder; Nagle would only add latency to small messages.
    socket.setNoDelay(true);
    socket.once('error', onError);
    socket.once(connectEvent, onConnect);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function isTlsError(err: { code?: string }): boolean {
  const c = err.code ?? '';
  return c !== '' && !/^E[A-Z]+$/.test(c);
}
