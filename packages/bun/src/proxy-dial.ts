/**
 * Bun's half of proxying (the protocols are the session's): TCP with Bun.connect, TLS over an open socket with
 * `socket.upgradeTLS()` (for an https: proxy, and for wss: inside the tunnel), raw reads and writes for the
 * tunnel exchange, and Bun.env for `proxy: 'env'`. Bun's upgradeTLS() does not run TLS inside TLS, so wss:
 * through an https: proxy runs its inner TLS over a loopback pair relayed to the outer TLS socket (tls-relay.ts).
 *
 * Until the tunnel is up, a socket's `data` is a `TunnelPhase` (the shared `socketHandlers` forward every event
 * to `socket.data`, so the same handlers serve both phases); the binding then takes the socket over with
 * `attach()`. The plain half left behind by `upgradeTLS()` keeps a finished phase, which ignores the ciphertext
 * Bun still reports on it.
 */
import type * as Bun from './bun-api.js';
import { bunRuntime } from './bun-api.js';
import { dialThroughProxy, type DialTarget, type ProxyEndpoint, type ProxyHop, type ProxyTransport, type TunnelIO } from '@streamsocket/session';
import { TlsConnectError, type TlsClientOptions } from './dial.js';
import { SocketBinding, socketHandlers, type SocketChannelOptions } from './socket-channel.js';
import { loopbackOver } from './tls-relay.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySocket = Bun.Socket<any>;

/** Bun's environment, for `proxy: 'env'`. */
export const bunEnv = (name: string): string | undefined => bunRuntime().env[name];

/** A socket's events before the binding exists: queued for the tunnel exchange. */
class TunnelPhase {
  private queue: Uint8Array[] = [];
  private ended = false;
  private failure: Error | null = null;
  private waiter: { resolve: (c: Uint8Array | null) => void; reject: (e: unknown) => void } | null = null;
  private drainWaiter: (() => void) | null = null;
  done = false;

  onData(chunk: Uint8Array): void {
    if (this.done) return;
    this.queue.push(chunk.slice());
    this.wake();
  }
  onDrain(): void {
    const w = this.drainWaiter;
    this.drainWaiter = null;
    w?.();
  }
  onEnd(): void {
    this.ended = true;
    this.wake();
  }
  onError(err: Error): void {
    this.failure = err;
    this.wake();
  }
  onClose(err?: Error): void {
    if (err) this.failure = err;
    this.ended = true;
    this.wake();
    this.onDrain();
  }
  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.queue.length) {
      this.waiter = null;
      w.resolve(this.queue.shift()!);
    } else if (this.failure) {
      this.waiter = null;
      w.reject(this.failure);
    } else if (this.ended) {
      this.waiter = null;
      w.resolve(null);
    }
  }
  read(): Promise<Uint8Array | null> {
    if (this.queue.length) return Promise.resolve(this.queue.shift()!);
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }
  drained(): Promise<void> {
    if (this.ended) return Promise.reject(this.failure ?? new Error('connection closed'));
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
    });
  }
}

const handlers = socketHandlers as unknown as Bun.SocketHandler<TunnelPhase>;

function phaseOf(s: AnySocket): TunnelPhase {
  return s.data as TunnelPhase;
}

function socketIO(s: AnySocket): TunnelIO {
  const phase = phaseOf(s);
  return {
    async write(bytes) {
      let off = 0;
      while (off < bytes.byteLength) {
        const n = s.write(bytes.subarray(off));
        off += Math.max(0, n);
        if (off < bytes.byteLength) await phase.drained();
      }
    },
    read: () => phase.read(),
    release() {
      /* the phase stays the socket's data until attach(); nothing arrives in between (both protocols are client-first) */
    },
  };
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIpLiteral = (h: string): boolean => h.includes(':') || IPV4.test(h);

/** The transport for dialThroughProxy: `target` are the connection's TLS options, `proxy` the proxy hop's. */
export function bunProxyTransport(opts: { target: TlsClientOptions; proxy: TlsClientOptions }): ProxyTransport<AnySocket> {
  const tlsSockets = new WeakSet<AnySocket>();
  return {
    tcp(hostname, port, signal) {
      return new Promise<AnySocket>((resolve, reject) => {
        let settled = false;
        const onAbort = (): void => {
          if (settled) return;
          settled = true;
          reject(abortError(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        bunRuntime().connect<TunnelPhase>({
          hostname,
          port,
          allowHalfOpen: true,
          data: new TunnelPhase(),
          socket: {
            ...handlers,
            open(s) {
              signal.removeEventListener('abort', onAbort);
              if (settled) return void s.terminate();
              settled = true;
              s.setNoDelay?.(true);
              resolve(s as AnySocket);
            },
            connectError(_s, err) {
              signal.removeEventListener('abort', onAbort);
              if (settled) return;
              settled = true;
              reject(err);
            },
          },
        }).catch((e: unknown) => {
          if (settled) return;
          settled = true;
          reject(e);
        });
      });
    },
    async startTls(s, hostname, port, hop: ProxyHop, signal) {
      const target: DialTarget = { hostname, port, secure: true };
      // TLS inside TLS (wss: through an https: proxy): Bun's upgradeTLS() on a TLS socket never completes its
      // handshake, so a loopback pair relayed over the outer TLS socket stands in for it (tls-relay.ts).
      if (tlsSockets.has(s)) s = (await loopbackOver(s, new TunnelPhase(), handlers)) as AnySocket;
      const o = hop === 'proxy' ? opts.proxy : opts.target;
      const tls: Bun.TLSOptions = { rejectUnauthorized: o.rejectUnauthorized ?? true };
      const servername = o.servername ?? (isIpLiteral(hostname) ? undefined : hostname);
      if (servername !== undefined) tls.serverName = servername;
      if (o.ca !== undefined) tls.ca = o.ca;
      if (o.clientCert !== undefined) {
        tls.cert = o.clientCert.cert;
        tls.key = o.clientCert.key;
      }
      return new Promise<AnySocket>((resolve, reject) => {
        let settled = false;
        const settle = (err: unknown, sock?: AnySocket): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (sock) resolve(sock);
          else reject(err);
        };
        const onAbort = (): void => settle(abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        const outer = phaseOf(s);
        try {
          const upgraded = (s as unknown as {
            upgradeTLS(o: { data: TunnelPhase; tls: Bun.TLSOptions; socket: Bun.SocketHandler<TunnelPhase> }): [AnySocket, AnySocket];
          }).upgradeTLS({
            data: new TunnelPhase(),
            tls,
            socket: {
              ...handlers,
              handshake(t, success, authorizationError) {
                if (success || o.rejectUnauthorized === false) {
                  tlsSockets.add(t as AnySocket);
                  return settle(null, t as AnySocket);
                }
                const err = authorizationError ?? new Error('certificate verification failed');
                t.terminate();
                settle(new TlsConnectError(target, err as Error & { code?: string }));
              },
              close(t, err) {
                handlers.close!(t, err);
                settle(new TlsConnectError(target, err ?? new Error(`connection to ${hostname}:${port} closed during the TLS handshake`)));
              },
            },
          });
          // The plain half still reports the ciphertext: its phase is finished and ignores it.
          outer.done = true;
          void upgraded;
        } catch (e) {
          s.terminate();
          settle(new TlsConnectError(target, e as Error));
        }
      });
    },
    io: socketIO,
    close(s) {
      s.terminate();
    },
  };
}

/** Through `proxy` to `target`; resolves with the socket bound (as `dial()` does for a direct connection). */
export async function dialViaProxy(
  proxy: ProxyEndpoint,
  target: DialTarget,
  opts: { target: TlsClientOptions; proxy: TlsClientOptions },
  signal: AbortSignal,
  streams: SocketChannelOptions = {},
): Promise<SocketBinding> {
  const s = await dialThroughProxy(proxy, target, bunProxyTransport(opts), signal);
  phaseOf(s).done = true;
  const binding = new SocketBinding(streams);
  binding.attach(s as Bun.Socket<SocketBinding>);
  return binding;
}
