/**
 * Node's half of proxying (the protocols are the session's): TCP with net.connect, TLS over an open socket with
 * tls.connect({ socket }) (for an https: proxy, and for wss: inside the tunnel, TLS inside TLS when both), and
 * raw reads for the tunnel exchange. The environment is process.env.
 */
import net from 'node:net';
import tls from 'node:tls';
import { dialThroughProxy, type DialTarget, type ProxyEndpoint, type ProxyHop, type ProxyTransport, type TunnelIO } from '@streamsocket/session';
import { TlsConnectError, type TlsClientOptions } from './dial.js';

/** Node's environment, for `proxy: 'env'`. */
export const nodeEnv = (name: string): string | undefined => process.env[name];

function waitFor(socket: net.Socket, event: 'connect' | 'secureConnect', signal: AbortSignal, wrap: (e: Error & { code?: string }) => unknown): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      socket.off('error', onError);
      socket.off(event, onOk);
      signal.removeEventListener('abort', onAbort);
    };
    const onOk = (): void => {
      done();
      resolve();
    };
    const onError = (e: Error & { code?: string }): void => {
      done();
      socket.destroy();
      reject(wrap(e));
    };
    const onAbort = (): void => {
      done();
      socket.destroy();
      reject(signal.reason);
    };
    socket.once(event, onOk);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function socketIO(socket: net.Socket): TunnelIO {
  const queue: Uint8Array[] = [];
  let ended = false;
  let failure: Error | null = null;
  let waiter: { resolve: (c: Uint8Array | null) => void; reject: (e: unknown) => void } | null = null;
  const wake = (): void => {
    if (!waiter) return;
    const w = waiter;
    if (queue.length) {
      waiter = null;
      w.resolve(queue.shift()!);
    } else if (failure) {
      waiter = null;
      w.reject(failure);
    } else if (ended) {
      waiter = null;
      w.resolve(null);
    }
  };
  const onData = (c: Buffer): void => {
    queue.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    wake();
  };
  const onEnd = (): void => {
    ended = true;
    wake();
  };
  const onError = (e: Error): void => {
    failure = e;
    wake();
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  socket.on('error', onError);
  return {
    write(bytes) {
      socket.write(bytes);
    },
    read() {
      if (queue.length) return Promise.resolve(queue.shift()!);
      if (failure) return Promise.reject(failure);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    release() {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      // Back to paused mode: the binding attaches its own reader, nothing is lost meanwhile.
      socket.pause();
    },
  };
}

/** The transport for dialThroughProxy: `target` are the connection's TLS options, `proxy` the proxy hop's. */
export function nodeProxyTransport(opts: { target: TlsClientOptions; proxy: TlsClientOptions }): ProxyTransport<net.Socket> {
  return {
    async tcp(host, port, signal) {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      await waitFor(socket, 'connect', signal, (e) => e);
      return socket;
    },
    async startTls(socket, hostname, port, hop: ProxyHop, signal) {
      const o = hop === 'proxy' ? opts.proxy : opts.target;
      const servername = o.servername ?? (net.isIP(hostname) ? undefined : hostname);
      const c: tls.ConnectionOptions = { ...o.tls, socket, ALPNProtocols: ['http/1.1'] };
      // With `socket`, Node checks the certificate against `host` (or servername): always the hop's name.
      c.host = hostname;
      if (servername !== undefined) c.servername = servername;
      if (o.ca !== undefined) c.ca = o.ca;
      if (o.rejectUnauthorized !== undefined) c.rejectUnauthorized = o.rejectUnauthorized;
      const secure = tls.connect(c);
      const target: DialTarget = { hostname, port, secure: true };
      await waitFor(secure, 'secureConnect', signal, (e) => new TlsConnectError(target, e));
      secure.setNoDelay(true);
      return secure;
    },
    io: socketIO,
    close(socket) {
      socket.destroy();
    },
  };
}

export function dialViaProxy(proxy: ProxyEndpoint, target: DialTarget, opts: { target: TlsClientOptions; proxy: TlsClientOptions }, signal: AbortSignal): Promise<net.Socket> {
  return dialThroughProxy(proxy, target, nodeProxyTransport(opts), signal);
}
