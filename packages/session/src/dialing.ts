/**
 * The runtime-free half of every adapter's client `connect(url, options)`: where to dial for a URL, and how a
 * dial and the opening handshake share one deadline and one fate. The adapters keep only the dial itself
 * (Node's net/tls, Deno.connect/connectTls, Bun.connect) and the binding of its socket.
 */
import type { ByteChannel, ByteDuplex } from './channel.js';
import { connect, type ConnectOptions, type WebSocketStream } from './websocket-stream.js';
import type { MessageOf } from './message-stream.js';

/** Host, port and TLS-ness of a URL, as a dialer needs them. */
export interface DialTarget {
  /** Without brackets for IPv6 literals. */
  hostname: string;
  port: number;
  secure: boolean;
}

/** Where to dial for a ws:/wss: (or http:/https:) URL: default ports 80 and 443, IPv6 literals unbracketed. */
export function dialTarget(url: URL): DialTarget {
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  let hostname = url.hostname;
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  return { hostname, port, secure };
}

/** Opens the byte connection for a (validated, normalised) URL; must stop and reject once `signal` aborts. */
export type ConnectionDialer = (url: URL, signal: AbortSignal) => Promise<ByteDuplex | ByteChannel>;

const noop = (): void => {};

/**
 * Opens a WebSocket over the connection `dial` opens. Returns at once; throws synchronously (SyntaxError,
 * TypeError) for a bad URL, subprotocol list or header, before anything is dialed.
 *
 * One deadline covers everything up to `opened`: the session's handshake timer starts now and the dial is part
 * of what it waits for, so `handshakeTimeout` bounds DNS + TCP + TLS + the HTTP exchange. When the opening fails
 * for any reason (timeout, abort, close() while connecting, a refusal) the dial's signal aborts, and a connection
 * that completes after that is closed at once by the session: no socket outlives a failed connect.
 */
export function connectWith<O extends ConnectOptions = ConnectOptions>(dial: ConnectionDialer, url: string | URL, options: O = {} as O): WebSocketStream<MessageOf<O>> {
  const controller = new AbortController();
  let settle!: { resolve: (c: ByteDuplex | ByteChannel) => void; reject: (e: unknown) => void };
  const conn = new Promise<ByteDuplex | ByteChannel>((resolve, reject) => {
    settle = { resolve, reject };
  });
  conn.catch(noop);
  const ws = connect<O>(conn, url, options);
  ws.opened.catch((e: unknown) => controller.abort(e));
  let dialing: Promise<ByteDuplex | ByteChannel>;
  try {
    dialing = dial(new URL(ws.url), controller.signal);
  } catch (e) {
    dialing = Promise.reject(e);
  }
  dialing.then(settle.resolve, settle.reject);
  return ws;
}
