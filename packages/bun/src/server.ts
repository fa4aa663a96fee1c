/**
 * Server side: `serve(options, handler)` listens with Bun.listen (TCP, or TLS with `tls`), binds every accepted
 * connection, lets the session read and answer the opening handshake (policy: path, origins, protocols,
 * deflate, onRequest ...), and hands each opened WebSocketStream to `handler`. `close()` stops accepting, ends
 * every connection with 1001 Going Away, waits for the close handshakes (bounded), and releases the port.
 */
import { accept } from '@streamsocket/session';
import type { AcceptOptions, WebSocketStream } from '@streamsocket/session';
import type { RequestHead } from '@streamsocket/handshake';
import { SocketBinding, socketHandlers } from './socket-streams.js';
import { goingAway, internalClose } from './going-away.js';

export interface TlsServerOptions {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM (RSA, EC or PKCS8). */
  key: string;
}

export interface ServeOptions extends Omit<AcceptOptions, 'signal' | 'request' | 'rest'> {
  /** Address to listen on. Default '0.0.0.0'; '::' for every IPv6 (and, per OS, IPv4) address. */
  hostname?: string;
  /** Port; 0 (default) picks a free one: read it from `server.port`. */
  port?: number;
  /** Serve wss: with this certificate and key. */
  tls?: TlsServerOptions;
  /** Closes the server (like `close()`) when aborted. */
  signal?: AbortSignal;
  /** Bytes a socket's readable may queue before the socket is paused. Default 64 KiB. */
  socketReadHighWaterMark?: number;
  /**
   * Called for every connection that did not become a WebSocket (refused or malformed handshake, timeout, TLS
   * failure) and for errors thrown by `handler`. Default: ignore (the peer got its error response).
   */
  onError?: (error: unknown, info: ConnectionInfo) => void;
}

export interface ConnectionInfo {
  remoteAddr: { hostname: string; port: number };
  localAddr: { hostname: string; port: number };
  /** The request head, once read (null if the handshake failed before). */
  request: RequestHead | null;
}

export type Handler = (ws: WebSocketStream, info: ConnectionInfo) => unknown;

export interface WebSocketServer {
  readonly hostname: string;
  readonly port: number;
  /** ws://host:port (or wss:), with IPv6 literals in brackets. */
  readonly url: string;
  /** Connections currently open (handshaking or open). */
  readonly connections: number;
  /**
   * Stops accepting, closes every WebSocket with 1001 (`reason` default 'server shutting down') and resolves
   * once every connection is gone and the port is released. Idempotent.
   */
  close(reason?: string): Promise<void>;
  /** Resolves when the server is fully closed. */
  readonly closed: Promise<void>;
}

interface Entry {
  ws: WebSocketStream;
  streams: SocketBinding;
  open: boolean;
}

const DEFAULT_CLOSE_TIMEOUT = 5_000;
/** Extra time, past the close timeout, for sockets to finish lingering before they are destroyed. */
const SHUTDOWN_GRACE_MS = 1_000;


export function serve(options: ServeOptions, handler: Handler): WebSocketServer {
  const { hostname = '0.0.0.0', port = 0, tls, signal, socketReadHighWaterMark, onError, ...acceptOptions } = options;
  const entries = new Set<Entry>();
  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const report = (e: unknown, info: ConnectionInfo): void => {
    try {
      onError?.(e, info);
    } catch {
      /* a throwing error hook must not break the server */
    }
  };
  const streamOptions = socketReadHighWaterMark !== undefined ? { readHighWaterMark: socketReadHighWaterMark } : {};

  const handle = (socket: Bun.Socket<SocketBinding>): void => {
    const streams = new SocketBinding(streamOptions);
    streams.attach(socket);
    socket.setNoDelay?.(true);
    if (closing) return streams.destroy();
    const info: ConnectionInfo = {
      remoteAddr: { hostname: socket.remoteAddress, port: socket.remotePort ?? 0 },
      localAddr: { hostname: listener.hostname, port: socket.localPort },
      request: null,
    };
    const ws = accept({ readable: streams.readable, writable: streams.writable }, acceptOptions);
    const entry: Entry = { ws, streams, open: false };
    entries.add(entry);
    void streams.closed.then(() => entries.delete(entry));
    const onHandlerError = (e: unknown): void => {
      report(e, info);
      internalClose(ws, 1011, 'internal error');
    };
    ws.opened.then(
      () => {
        entry.open = true;
        info.request = ws.request;
        if (closing) return goingAway(ws, 'server shutting down');
        try {
          const r = handler(ws, info);
          if (r instanceof Promise) r.catch((e: unknown) => onHandlerError(e));
        } catch (e) {
          onHandlerError(e);
        }
      },
      (e: unknown) => {
        info.request = ws.request;
        report(e, info);
      },
    );
  };

  const listener = Bun.listen<SocketBinding>({
    hostname,
    port,
    // The session half-closes after its close frame and keeps reading: Bun must not close on the peer's FIN.
    allowHalfOpen: true,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    socket: {
      ...socketHandlers,
      open: handle,
    },
  });

  const close = (reason = 'server shutting down'): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      signal?.removeEventListener('abort', onAbort);
      // Stop accepting and release the port; open connections stay until their close handshakes are done.
      listener.stop(false);
      for (const e of entries) {
        if (e.open) goingAway(e.ws, reason);
        else e.ws.close(); // still handshaking: abort it (the connection is dropped)
      }
      const limit = (acceptOptions.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT) + SHUTDOWN_GRACE_MS;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const all = Promise.all([...entries].map((e) => e.streams.closed));
      await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, limit)))]);
      clearTimeout(timer);
      for (const e of entries) e.streams.destroy();
      entries.clear();
      listener.stop(true);
      resolveClosed();
    })();
    return closing;
  };
  const onAbort = (): void => void close();
  if (signal) {
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  const boundHost = listener.hostname;
  const host = boundHost.includes(':') ? `[${boundHost}]` : boundHost;
  return {
    hostname: boundHost,
    port: listener.port,
    url: `${tls ? 'wss' : 'ws'}://${host}:${listener.port}`,
    get connections() {
      return entries.size;
    },
    close,
    closed,
  };
}
