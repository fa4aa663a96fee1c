/**
 * Server side: `serve(options, handler)` listens with Deno.listen / Deno.listenTls, binds every accepted
 * connection, lets the session read and answer the opening handshake (policy: path, origins, protocols,
 * deflate, onRequest ...), and hands each opened WebSocketStream to `handler`. `close()` stops accepting, ends
 * every connection with 1001 Going Away, waits for the close handshakes (bounded), and releases the port.
 */
import { accept } from '@streamsocket/session';
import type { AcceptOptions, WebSocketStream } from '@streamsocket/session';
import type { RequestHead } from '@streamsocket/handshake';
import { connStreams, type ConnStreams } from './conn-streams.js';
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
  /** Bytes per socket read buffer. Default 64 KiB. */
  readBufferSize?: number;
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
  streams: ConnStreams;
  open: boolean;
}

const DEFAULT_CLOSE_TIMEOUT = 5_000;
/** Extra time, past the close timeout, for sockets to finish lingering before they are destroyed. */
const SHUTDOWN_GRACE_MS = 1_000;

function addr(a: Deno.NetAddr): { hostname: string; port: number } {
  return { hostname: a.hostname, port: a.port };
}

export function serve(options: ServeOptions, handler: Handler): WebSocketServer {
  const { hostname = '0.0.0.0', port = 0, tls, signal, readBufferSize, onError, ...acceptOptions } = options;
  const listener = tls
    ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key, transport: 'tcp', alpnProtocols: ['http/1.1'] })
    : Deno.listen({ hostname, port, transport: 'tcp' });
  const bound = listener.addr;
  const entries = new Set<Entry>();
  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const report = (e: unknown, info: ConnectionInfo): void => {
    try {
      onError?.(e, info);
    } catch {
      /* a throwing error hook must not break the accept loop */
    }
  };

  const handle = (conn: Deno.Conn): void => {
    const streams = connStreams(conn, readBufferSize !== undefined ? { readBufferSize } : {});
    const info: ConnectionInfo = { remoteAddr: addr(conn.remoteAddr), localAddr: addr(conn.localAddr), request: null };
    const ws = accept({ readable: streams.readable, writable: streams.writable }, acceptOptions);
    const entry: Entry = { ws, streams, open: false };
    entries.add(entry);
    void streams.closed.then(() => entries.delete(entry));
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
    const onHandlerError = (e: unknown): void => {
      report(e, info);
      internalClose(ws, 1011, 'internal error');
    };
  };

  const acceptLoop = (async (): Promise<void> => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (closing) return;
        // Out of descriptors and the like: back off briefly rather than spin.
        report(e, { remoteAddr: { hostname: '', port: 0 }, localAddr: addr(bound), request: null });
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (closing) {
        conn.close();
        return;
      }
      conn.setNoDelay?.(true);
      handle(conn);
    }
  })();

  const close = (reason = 'server shutting down'): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      signal?.removeEventListener('abort', onAbort);
      try {
        listener.close();
      } catch {
        /* already closed */
      }
      await acceptLoop;
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
      resolveClosed();
    })();
    return closing;
  };
  const onAbort = (): void => void close();
  if (signal) {
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  const host = bound.hostname.includes(':') ? `[${bound.hostname}]` : bound.hostname;
  return {
    hostname: bound.hostname,
    port: bound.port,
    url: `${tls ? 'wss' : 'ws'}://${host}:${bound.port}`,
    get connections() {
      return entries.size;
    },
    close,
    closed,
  };
}
