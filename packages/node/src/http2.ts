/**
 * WebSockets over HTTP/2 (RFC 8441, extended CONNECT) on Node's `http2`, both roles.
 *
 * An extended CONNECT stream (`:method CONNECT`, `:protocol websocket`) is a byte pair like a TCP connection once
 * its headers are exchanged, so the codec and session run on it unchanged, bound by the same `socketChannel()`
 * binding as a socket. What differs is only the opening: RFC 8441 replaces the HTTP/1.1 Upgrade request and its 101
 * with HTTP/2 headers and a 2xx (no `Sec-WebSocket-Key`/`-Accept`, no `Upgrade`/`Connection`). Rather than a second
 * handshake implementation, each role translates at the edge and lets the session's own handshake do the rest:
 *
 * - Server: the stream's headers are rewritten as the equivalent HTTP/1.1 Upgrade request (placed in front of the
 *   stream's bytes, as `upgrade()` does with Node's parsed head), so `accept()` applies every policy unchanged:
 *   origins, path, subprotocols, permessage-deflate, `onRequest`, limits. Its answer is translated back on the way
 *   out: a 101 becomes `:status 200` with the negotiated `sec-websocket-protocol`/`-extensions` (and any extra
 *   headers), a refusal keeps its status, headers and body.
 * - Client: the session writes its HTTP/1.1 request; its head becomes the stream's request headers, and the stream's
 *   response headers become the 101 (or refusal) the session then validates: the offered subprotocols and
 *   extensions are checked exactly as over HTTP/1.1.
 *
 * Several WebSockets share one HTTP/2 session (one TCP+TLS connection), each on its own stream, with HTTP/2's
 * per-stream flow control under the session's own backpressure.
 */
import http2 from 'node:http2';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  accept,
  acceptOptionsOf,
  connect as sessionConnect,
  ServerCore,
  coreOptionsOf,
  serverObject,
  type Served,
  type ServedConnection,
  type ServeOptionsBase,
  type ServerCloseOptions,
  type WebSocket,
  type WebSocketServerBase,
  type AcceptOptions,
  type ByteChannel,
  type ReadResult,
  type ConnectionOwner,
  type ChannelSink,
  type ConnectOptions as SessionConnectOptions,
  type WebSocketStream,
} from '@streamsocket/session';
import { HeadReader, STATUS_TEXT, computeAccept, type RequestHead, type ResponseHead } from '@streamsocket/handshake';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { socketChannel } from './socket-channel.js';
import { serializeIncomingHead } from './request-head.js';
import type { UpgradeOptions } from './upgrade.js';

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2) or that RFC 8441 drops: never copied between the two forms. */
const HOP_BY_HOP = new Set(['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'host', 'sec-websocket-key', 'sec-websocket-accept']);

/** True for an RFC 8441 WebSocket request: `:method CONNECT` with `:protocol websocket`. */
export function isWebSocketConnect(headers: http2.IncomingHttpHeaders): boolean {
  return headers[':method'] === 'CONNECT' && String(headers[':protocol'] ?? '').toLowerCase() === 'websocket';
}

const latin1 = (s: string): Uint8Array => {
  const b = Buffer.from(s, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/** The HTTP/1.1 Upgrade request equivalent to an extended CONNECT's headers (RFC 8441 §5, read backwards). */
function upgradeRequestFor(headers: http2.IncomingHttpHeaders): Uint8Array {
  const path = String(headers[':path'] ?? '/');
  let s = `GET ${path} HTTP/1.1\r\nHost: ${String(headers[':authority'] ?? '')}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
  // RFC 8441 has no key; the session's handshake wants one, and nothing ever sees its accept value.
  s += `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || HOP_BY_HOP.has(name) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) s += `${name}: ${v}\r\n`;
  }
  return latin1(`${s}\r\n`);
}

/** HTTP/1.1 response headers as HTTP/2 ones (lower-case names, repeats as arrays, hop-by-hop dropped). */
function h2Headers(head: ResponseHead, status: number): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':status': status };
  for (const [name, value] of head.headers.entries()) {
    const n = name.toLowerCase();
    if (HOP_BY_HOP.has(n)) continue;
    const prev = out[n];
    out[n] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}

/**
 * A channel that reads the first HTTP head written to it and hands it to `onHead` instead of the transport (what
 * follows the head in the same write, a refusal's body, goes through). Everything else is the inner channel's.
 */
class HeadTranslatingChannel implements ByteChannel {
  private reader: HeadReader<'response'> | null = new HeadReader('response');
  constructor(
    private readonly inner: ByteChannel,
    private readonly onHead: (head: ResponseHead) => void,
  ) {}
  write(chunk: Uint8Array): boolean {
    if (this.reader === null) return this.inner.write(chunk);
    const r = this.reader.push(chunk);
    if (!r) return true;
    this.reader = null;
    this.onHead(r.head);
    return r.rest.byteLength > 0 ? this.inner.write(r.rest) : !this.inner.congested;
  }
  get congested(): boolean {
    return this.inner.congested;
  }
  drained(): Promise<void> {
    return this.inner.drained();
  }
  read(): Promise<ReadResult<Uint8Array>> {
    return this.inner.read();
  }
  cancel(reason?: unknown): Promise<void> {
    return this.inner.cancel(reason);
  }
  get closed(): Promise<void> {
    return this.inner.closed;
  }
  destroy(): void {
    this.inner.destroy();
  }
  track(owner: ConnectionOwner): void {
    this.inner.track({ released: () => owner.released(this) });
  }
  listen(sink: ChannelSink): void {
    this.inner.listen(sink);
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  end(): Promise<void> {
    return this.inner.end();
  }
  abort(reason?: unknown): void {
    this.inner.abort(reason);
  }
}

export type Http2AcceptOptions = UpgradeOptions;

/**
 * Server role on one extended CONNECT stream (from an `http2` server's 'stream' event, after
 * `isWebSocketConnect(headers)`): answers it and returns the session. The server must have been created with
 * `settings: { enableConnectProtocol: true }` (else clients may not send extended CONNECT at all).
 */
export function acceptHttp2(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, options: Http2AcceptOptions = {}): WebSocketStream {
  const { permessageDeflate, ...rest } = options;
  const a: AcceptOptions = { secure: stream.session?.encrypted ?? false, ...rest };
  if (permessageDeflate !== undefined && a.deflate === undefined) a.deflate = permessageDeflate;
  return accept(streamConnection(stream, headers), a);
}

/**
 * An extended CONNECT stream as the channel a server session runs on: the equivalent HTTP/1.1 request in front
 * of its bytes, the session's answer translated to HTTP/2 response headers (see the module comment).
 */
function streamConnection(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): ServedConnection {
  const inner = socketChannel(stream as unknown as Socket, { head: [upgradeRequestFor(headers)] });
  const channel = new HeadTranslatingChannel(inner, (head) => {
    if (stream.destroyed || stream.headersSent) return;
    // RFC 8441 §5: success is any 2xx; we answer 200. A refusal keeps its status (and its body follows).
    stream.respond(h2Headers(head, head.status === 101 ? 200 : head.status));
  });
  return channel;
}

/** An HTTP/1.1 Upgrade on the same port: the socket with Node's parsed head put back in front (as upgrade() does). */
function upgradeConnection(req: IncomingMessage, socket: Socket, head: Buffer): ServedConnection {
  socket.setNoDelay?.(true);
  const chunks: Uint8Array[] = [serializeIncomingHead(req)];
  if (head && head.byteLength > 0) chunks.push(new Uint8Array(head.buffer, head.byteOffset, head.byteLength));
  return socketChannel(socket, { head: chunks });
}

// ------------------------------------------------------------------------------------------------ client

export interface Http2ConnectOptions extends SessionConnectOptions {
  /**
   * The HTTP/2 session to open the WebSocket on (`http2.connect('https://host:port', { ca })`). Several WebSockets
   * may share it; closing them does not close it.
   */
  session: http2.ClientHttp2Session;
  /** ms for the whole opening (waiting for the server's SETTINGS, the CONNECT, the response). Default 10 000. */
  connectTimeout?: number;
  /** Alias of `deflate`. */
  permessageDeflate?: SessionConnectOptions['deflate'];
}

/** The server did not enable RFC 8441 (no SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in its SETTINGS). */
export class ExtendedConnectUnsupportedError extends Error {
  constructor(authority: string) {
    super(`the HTTP/2 server ${authority} does not accept WebSockets over HTTP/2 (RFC 8441): it did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`);
    this.name = 'ExtendedConnectUnsupportedError';
  }
}

/**
 * Whether the server enabled extended CONNECT. Node reports default SETTINGS until the server's arrive, so a
 * `false` is confirmed with a PING: the server's first frame is its SETTINGS (RFC 9113 §3.4), so once the PING
 * is acknowledged its SETTINGS have been applied.
 */
async function serverAllowsConnect(session: http2.ClientHttp2Session, signal: AbortSignal): Promise<boolean> {
  if (session.remoteSettings?.enableConnectProtocol) return true;
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const ping = (): void => {
      try {
        session.ping((err) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve();
        });
      } catch (e) {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      }
    };
    if (session.connecting) session.once('connect', ping);
    else ping();
  });
  return session.remoteSettings?.enableConnectProtocol === true;
}

/** The HTTP/1.1 response the session expects, made from the stream's HTTP/2 response headers. */
function responseHeadFor(h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, key: string): Uint8Array {
  const status = Number(h[':status'] ?? 0);
  let s: string;
  if (status >= 200 && status < 300) {
    s = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(key)}\r\n`;
  } else {
    s = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n`;
  }
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith(':') || HOP_BY_HOP.has(name) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) s += `${name}: ${v}\r\n`;
  }
  return latin1(`${s}\r\n`);
}

/**
 * The client's byte pair before its stream exists: the session's first write (its HTTP/1.1 request) opens the
 * stream with the equivalent extended CONNECT headers; its first read is the stream's response, as a 101 or a
 * refusal head; after that every call goes to the stream's binding.
 */
class ClientStreamChannel implements ByteChannel {
  private reader: HeadReader<'request'> | null = new HeadReader('request');
  private inner: ByteChannel | null = null;
  private head: Promise<Uint8Array> | null = null;
  private headDelivered = false;
  private pendingAbort: unknown = undefined;
  stream: http2.ClientHttp2Stream | null = null;

  constructor(
    private readonly session: http2.ClientHttp2Session,
    private readonly url: URL,
  ) {}

  write(chunk: Uint8Array): boolean {
    if (this.inner) return this.inner.write(chunk);
    if (!this.reader) return false;
    const r = this.reader.push(chunk);
    if (!r) return true;
    this.reader = null;
    this.open(r.head, r.rest);
    return true;
  }

  private open(req: RequestHead, rest: Uint8Array): void {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': this.url.protocol === 'wss:' ? 'https' : 'http',
      ':authority': req.headers.get('host') ?? this.url.host,
      ':path': req.target,
    };
    let key = '';
    for (const [name, value] of req.headers.entries()) {
      const n = name.toLowerCase();
      if (n === 'sec-websocket-key') key = value;
      if (HOP_BY_HOP.has(n)) continue;
      const prev = headers[n];
      headers[n] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.session.request(headers, { endStream: false });
    } catch (e) {
      this.head = Promise.reject(e);
      this.head.catch(() => {});
      return;
    }
    this.stream = stream;
    const inner = socketChannel(stream as unknown as Socket);
    this.inner = inner;
    this.head = new Promise<Uint8Array>((resolve, reject) => {
      const onResponse = (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void => {
        stream.off('close', onClose);
        resolve(responseHeadFor(h, key));
      };
      const onClose = (): void => {
        stream.off('response', onResponse);
        reject(new Error(`the HTTP/2 stream closed before a response (RST_STREAM code ${stream.rstCode ?? 'none'})`));
      };
      stream.once('response', onResponse);
      stream.once('close', onClose);
    });
    this.head.catch(() => {});
    if (rest.byteLength > 0) inner.write(rest);
    if (this.pendingAbort !== undefined) inner.abort(this.pendingAbort);
  }

  async read(): Promise<ReadResult<Uint8Array>> {
    if (!this.headDelivered) {
      if (!this.head) throw new Error('read before the request was written');
      this.headDelivered = true;
      return { done: false, value: await this.head };
    }
    return this.inner!.read();
  }
  get congested(): boolean {
    return this.inner?.congested ?? false;
  }
  drained(): Promise<void> {
    return this.inner ? this.inner.drained() : Promise.resolve();
  }
  cancel(reason?: unknown): Promise<void> {
    return this.inner ? this.inner.cancel(reason) : Promise.resolve();
  }
  get closed(): Promise<void> {
    return this.inner ? this.inner.closed : Promise.resolve();
  }
  destroy(): void {
    this.abort(new Error('connection destroyed'));
  }
  track(owner: ConnectionOwner): void {
    if (this.inner) this.inner.track({ released: () => owner.released(this) });
    else queueMicrotask(() => owner.released(this));
  }
  listen(sink: ChannelSink): void {
    this.inner!.listen(sink);
  }
  pause(): void {
    this.inner?.pause();
  }
  resume(): void {
    this.inner?.resume();
  }
  end(): Promise<void> {
    return this.inner ? this.inner.end() : Promise.resolve();
  }
  abort(reason?: unknown): void {
    if (this.inner) this.inner.abort(reason);
    else this.pendingAbort = reason ?? new Error('aborted');
  }
}

/**
 * Opens a WebSocket as a stream of `options.session` (RFC 8441). `url` is the WebSocket URL (wss: for an https
 * session; its host and port are the session's origin). Returns at once; `opened` rejects with
 * ExtendedConnectUnsupportedError when the server did not enable extended CONNECT, with HandshakeError (status,
 * body) on a refusal, like connect() over HTTP/1.1.
 */
export function connectHttp2(url: string | URL, options: Http2ConnectOptions): WebSocketStream {
  const { session, connectTimeout, permessageDeflate, ...rest } = options;
  const s: SessionConnectOptions = { ...rest };
  if (connectTimeout !== undefined) s.handshakeTimeout = connectTimeout;
  if (permessageDeflate !== undefined && s.deflate === undefined) s.deflate = permessageDeflate;
  const u = new URL(url);
  const controller = new AbortController();
  const conn = (async (): Promise<ByteChannel> => {
    if (session.closed || session.destroyed) throw new Error('the HTTP/2 session is closed');
    if (!(await serverAllowsConnect(session, controller.signal))) throw new ExtendedConnectUnsupportedError(u.host);
    return new ClientStreamChannel(session, u);
  })();
  const ws = sessionConnect(conn, u, s);
  ws.opened.catch((e: unknown) => controller.abort(e));
  return ws;
}

// ------------------------------------------------------------------------------------------------ server

/** What the handler and `onError` learn about a WebSocket of serveHttp2 (besides `request` and `clientAddress`). */
export interface Http2ConnectionInfo {
  /** True for an extended CONNECT stream over HTTP/2, false for an HTTP/1.1 Upgrade. */
  http2: boolean;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

export interface ServeHttp2Options extends ServeOptionsBase<Http2ConnectionInfo> {
  /** Certificate and key (and any other `http2.createSecureServer` option). Without it: cleartext h2c + HTTP/1.1. */
  tls?: http2.SecureServerOptions;
  /**
   * Streams (WebSockets and requests) one HTTP/2 connection may have open at once: SETTINGS_MAX_CONCURRENT_STREAMS.
   * Default 256 (Node's own default advertises no limit, letting one connection hold any number of WebSockets).
   */
  maxStreamsPerConnection?: number;
  /**
   * Ordinary HTTP requests (HTTP/2 and HTTP/1.1, Node's compatibility API). Default: 404. WebSocket requests of
   * either version never reach it.
   */
  request?: (req: http2.Http2ServerRequest | IncomingMessage, res: http2.Http2ServerResponse | ServerResponse) => void;
}

export interface Http2WebSocketServer extends WebSocketServerBase {
  /** Resolves once listening. */
  readonly ready: Promise<void>;
  readonly port: number;
  /** wss:// (or ws://) URL of the server. */
  readonly url: string;
  /** The underlying Http2SecureServer / Http2Server. */
  readonly server: http2.Http2SecureServer | http2.Http2Server;
  /** How many WebSockets arrived over HTTP/2 (extended CONNECT) and over HTTP/1.1 (Upgrade) so far. */
  readonly counts: { http2: number; http1: number };
}

/** Our own options, not the session's. */
const HTTP2_KEYS = ['tls', 'maxStreamsPerConnection', 'request'] as const;

/**
 * Keeps Node from installing its compatibility layer on HTTP/2 streams when we listen to 'request' (which we need
 * for HTTP/1.1 requests under allowHTTP1): that layer, set up by a 'newListener' hook named setupCompat, would also
 * take every stream, read a WebSocket stream's DATA into a request object of its own (pausing the stream when no
 * one reads that) and answer extended CONNECT with 405 when no 'connect' listener exists. We answer HTTP/2
 * streams ourselves in 'stream' instead (ordinary requests through Http2ServerRequest/Response as the layer
 * would). Checked on Node 20 and 24; the tests fail if the hook is not found.
 */
function withoutCompatibilityLayer(server: http2.Http2SecureServer | http2.Http2Server): boolean {
  let removed = false;
  for (const l of server.listeners('newListener')) {
    if ((l as { name?: string }).name === 'setupCompat') {
      server.off('newListener', l as (...a: unknown[]) => void);
      removed = true;
    }
  }
  (server as unknown as { [k: symbol]: boolean })[compatRemoved] = removed;
  return removed;
}

/** Set on a server by serveHttp2: whether Node's compatibility hook was found and removed (for the tests). */
export const compatRemoved = Symbol('streamsocket.h2.compatRemoved');

/**
 * A server that takes WebSockets both ways on one port: RFC 8441 extended CONNECT streams over HTTP/2 (it sends
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1) and HTTP/1.1 Upgrade requests (`allowHTTP1`), with ordinary requests going
 * to `options.request`. Every WebSocket goes through the session's ServerCore, as with serve(): the admission
 * policy (pending-handshake and per-address caps), `onError`, a failing handler closing with 1011, `webSocket`
 * mode, topics, and `close()` sending 1001 and waiting for every connection.
 */
export function serveHttp2(options: ServeHttp2Options & { webSocket: true }, handler: (ws: WebSocket, info: Served<Http2ConnectionInfo>) => unknown): Http2WebSocketServer;
export function serveHttp2(options: ServeHttp2Options, handler: (ws: WebSocketStream, info: Served<Http2ConnectionInfo>) => unknown): Http2WebSocketServer;
export function serveHttp2(
  options: ServeHttp2Options,
  handler: ((ws: WebSocketStream, info: Served<Http2ConnectionInfo>) => unknown) | ((ws: WebSocket, info: Served<Http2ConnectionInfo>) => unknown),
): Http2WebSocketServer {
  const { hostname = '127.0.0.1', port = 0, tls, request, maxStreamsPerConnection = 256 } = options;
  const acceptOpts = { secure: tls !== undefined, ...acceptOptionsOf(options as ServeOptionsBase<never>, HTTP2_KEYS) };
  const core = new ServerCore<Http2ConnectionInfo>(coreOptionsOf(options, acceptOpts), handler as (ws: WebSocketStream, info: Served<Http2ConnectionInfo>) => unknown);
  const settings = { enableConnectProtocol: true, maxConcurrentStreams: maxStreamsPerConnection };
  const server = tls
    ? http2.createSecureServer({ ...tls, allowHTTP1: true, settings })
    : http2.createServer({ settings });
  withoutCompatibilityLayer(server);
  const counts = { http2: 0, http1: 0 };
  const info = (isH2: boolean, s: { remoteAddress?: string | undefined; remotePort?: number | undefined } | undefined): Http2ConnectionInfo => ({
    http2: isH2,
    remoteAddress: s?.remoteAddress,
    remotePort: s?.remotePort,
  });
  // Every HTTP/2 stream comes here first: WebSockets are taken, everything else goes to `request` (or 404).
  server.on('stream', (stream, headers) => {
    if (isWebSocketConnect(headers)) {
      counts.http2++;
      const sock = stream.session?.socket;
      core.add(streamConnection(stream, headers), info(true, sock), sock?.remoteAddress);
      return;
    }
    if (headers[':method'] === 'CONNECT') {
      stream.respond({ ':status': 405 });
      stream.end();
      return;
    }
    if (request) {
      const req = new http2.Http2ServerRequest(stream, headers, undefined as unknown as object, []);
      const res = new http2.Http2ServerResponse(stream);
      request(req, res);
      return;
    }
    stream.respond({ ':status': 404, 'content-type': 'text/plain' });
    stream.end('Not Found');
  });
  // HTTP/1.1 on the same port (allowHTTP1): its Upgrade requests, and ordinary requests.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    counts.http1++;
    core.add(upgradeConnection(req, socket, head), info(false, socket), socket.remoteAddress);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // Reached for HTTP/1.1 only: HTTP/2 streams are answered in 'stream' above and never get here (Node emits
    // 'request' for an HTTP/2 stream only through the compatibility layer, which we do not install).
    if (req.httpVersionMajor === 2) return;
    if (request) request(req, res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
    }
  });
  const sockets = new Set<Duplex>();
  const track = (s: Duplex): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  server.on('connection', track);
  server.on('secureConnection', track);
  const ready = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  ready.catch(() => {});
  const scheme = tls ? 'wss' : 'ws';
  // The closing, `closed`, the counters and publish are the shared server object's (session's serverObject).
  const shutdown = async (reason: string | undefined): Promise<void> => {
    const released = new Promise<void>((r) => server.close(() => r()));
    await core.close(reason);
    // HTTP/2 sessions and keep-alive HTTP/1.1 connections with no WebSocket left: nothing more to wait for.
    for (const s of sockets) s.destroy();
    await Promise.race([released, new Promise((r) => setTimeout(r, 1000))]);
  };
  return serverObject(core, {
    ready,
    get port() {
      return (server.address() as AddressInfo | null)?.port ?? 0;
    },
    get url() {
      const h = hostname.includes(':') ? `[${hostname}]` : hostname;
      return `${scheme}://${h}:${this.port}`;
    },
    server,
    counts,
  }, shutdown);
}
