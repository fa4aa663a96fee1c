/**
 * Where the commands meet the library: a client session from @streamsocket/node's `connect()`, a server from its
 * `serve()` (a TCP or TLS listener whose sockets go straight to the session's handshake: no HTTP server in
 * between, so a request that is not a WebSocket upgrade, such as a browser opening the URL, is answered 426).
 * Sessions are reduced to the `OpenSession` shape the commands work with.
 */
import { readFileSync } from 'node:fs';
import { connect, serve, goingAway, type WebSocketStream } from '@streamsocket/node';
import type { ConnectOptions, ServeOptions } from './args.js';
import type { CloseInfo, OpenSession, PeerInfo } from './session-types.js';
import type { Listen, ServerHandle } from './serve.js';

/**
 * The WHATWG close() takes only 1000 and 3000-4999 from users; a server also needs 1001 (shutdown), 1011 (the
 * --exec process failed) and 1013 (too slow), which the node adapter's goingAway() sends.
 */
function closeWith(ws: WebSocketStream, info: { closeCode?: number; reason?: string } = {}): void {
  const code = info.closeCode;
  if (code === undefined || code === 1000 || (code >= 3000 && code <= 4999)) ws.close(info);
  else goingAway(ws, info.reason ?? '', code);
}

async function open(ws: WebSocketStream): Promise<OpenSession> {
  const info = await ws.opened;
  return {
    protocol: info.protocol,
    extensions: info.extensions,
    readable: info.readable as ReadableStream<string | Uint8Array>,
    writable: info.writable as WritableStream<string | Uint8Array>,
    closed: ws.closed as Promise<CloseInfo>,
    close: (ci) => closeWith(ws, ci),
  };
}

export async function dialSession(o: ConnectOptions, signal: AbortSignal): Promise<OpenSession> {
  const ws = connect(o.url, {
    protocols: o.protocols,
    headers: [...o.headers],
    ...(o.origin !== undefined ? { origin: o.origin } : {}),
    ...(o.insecure ? { rejectUnauthorized: false } : {}),
    keepaliveInterval: o.pingInterval,
    connectTimeout: o.timeout,
    deflate: o.deflate,
    signal,
  });
  return open(ws);
}

function hostPort(address: string | undefined, port: number | undefined): string {
  const a = address ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${port ?? '?'}`;
}

export const listenSessions: Listen = async (o: ServeOptions, onSession) => {
  const server = serve({
    hostname: o.host,
    port: o.port,
    ...(o.tlsCert !== undefined && o.tlsKey !== undefined ? { tls: { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } } : {}),
    protocols: o.protocols,
    deflate: o.deflate,
    keepaliveInterval: o.pingInterval,
  }, async (ws, info) => {
    const session = await open(ws);
    const peer: PeerInfo = {
      remote: hostPort(info.remoteAddress, info.remotePort),
      path: info.request.target,
      protocol: session.protocol,
      extensions: session.extensions,
    };
    onSession(session, peer);
  });
  const addr = await server.ready;
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const handle: ServerHandle = {
    url: `${o.tlsCert !== undefined ? 'wss' : 'ws'}://${host}:${addr.port}/`,
    // Sends 1001 to every open session, waits (bounded) for them, releases the port.
    close: () => server.close({ reason: 'server shutting down' }),
  };
  return handle;
};
