/**
 * A fetch-style upgrade: one route object, `websocketRoute(handler, options)`, whose `upgrade(request, env?)` turns
 * a WHATWG `Request` into a WebSocket wherever Requests are served, and hands the same handler the same
 * WebSocketStream (or WebSocket) API everywhere:
 *
 *   - Node (node:http and the frameworks on it): @streamsocket/node's handleUpgrades(server, fetch) makes a Request
 *     of each 'upgrade' event and offers its socket here (offerSocket); our own codec takes it over.
 *   - Bun.serve: `env` is Bun's server: server.upgrade() with `route.websocket` as Bun.serve's `websocket` handlers.
 *   - Deno.serve: Deno.upgradeWebSocket().
 *   - workerd (Cloudflare Workers): a WebSocketPair, its client end in the 101 Response.
 *
 * In the last three the platform owns the socket, and the session presents it (platform.ts); `ws.engine` tells
 * which ('streamsocket' or 'platform'). The request is first checked by the handshake package's validateRequest
 * with the route's policy (path, origins, protocols) and `onRequest`, on every path, so a refusal gets the same
 * status and body wherever it runs. Runtime-free: the platforms are found by feature (a Request offered by a
 * host, an `env` with `upgrade()`, `Deno.upgradeWebSocket`, `WebSocketPair`), nothing is imported.
 */
import { HandshakeError, HeaderList, STATUS_TEXT, hasToken, validateRequest, type RequestHead } from '@streamsocket/handshake';
import { HandshakeGuard } from './guard.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { PlatformConnection, DEFAULT_MAX_READ_BACKLOG, type PlatformBinding, type PlatformSocket } from './platform.js';
import type { AcceptOptions, HeaderInit, RequestHook } from './server-handshake.js';
import { WebSocketStream } from './websocket-stream.js';
import { wrapWebSocket, type WebSocket } from './websocket.js';
import { Topics, type TopicsOptions, type PublishOptions, type PublishData } from './topics.js';
import { Admission } from './admission.js';
import type { TrustedProxies } from './addresses.js';

export interface RouteInfo {
  /** The Request that was upgraded. */
  request: Request;
  /** What the host passed beside it (Bun's server, a Worker's env, Node's { incoming, socket }), if anything. */
  env: unknown;
  /** The client's address as the route found it (see `RouteOptions.clientAddress`); '' when unknown. */
  clientAddress: string;
}

export type RouteStreamHandler = (ws: WebSocketStream, info: RouteInfo) => unknown;
export type RouteWebSocketHandler = (ws: WebSocket, info: RouteInfo) => unknown;

export interface RouteOptions extends Omit<AcceptOptions, 'request' | 'rest' | 'signal' | 'secure' | 'extensions'> {
  /** Alias of `deflate`. Where the platform owns the socket, its own permessage-deflate setting applies (Bun: this one). */
  permessageDeflate?: AcceptOptions['deflate'];
  /** Hand the handler a WHATWG `WebSocket` instead of a WebSocketStream. Default false. */
  webSocket?: boolean;
  /**
   * Platform engine only: bytes of received messages the reader may lag behind `readHighWaterMark` before the
   * connection is closed with 1008 (platforms cannot pause one WebSocket's reading). Default 1 MiB.
   */
  maxReadBacklog?: number;
  /** Every upgrade that did not become a session (refused, failed handshake), and every handler failure. */
  onError?: (error: unknown, info: RouteInfo) => void;
  /** Topics (`ws.subscribe`, `route.publish`): slow-subscriber policy and limit, backplane. See Topics. */
  topics?: TopicsOptions;
  /**
   * Open sessions one client address (an IPv6 /64) may hold on this route; over it the upgrade is answered 429
   * with Retry-After (counted in `stats.refusedPerAddress`). Default Infinity, as in `serve()`. A request whose
   * address is unknown is not counted.
   */
  maxConnectionsPerAddress?: number;
  /**
   * Peers whose `Forwarded`/`X-Forwarded-For` headers name the client (addresses, CIDR ranges, or a test), as in
   * `serve()`. Default none: those headers are ignored.
   */
  trustedProxies?: TrustedProxies;
  /**
   * The peer address of a request. Default: what the host tells: Bun's `server.requestIP(request)` (with the
   * server as `env`), Deno.serve's `info.remoteAddr` (pass the handler's `info` as `env`), the socket under a
   * Request that Node's handleUpgrades offered, workerd's `CF-Connecting-IP` header; else unknown.
   */
  clientAddress?: (request: Request, env: unknown) => string | undefined;
}

/** Bun.serve's `websocket` option (the part used here). */
export interface BunWebSocketHandlers {
  open(ws: BunServerWebSocket): void;
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  close(ws: BunServerWebSocket, code: number, reason: string): void;
  drain(ws: BunServerWebSocket): void;
  pong(ws: BunServerWebSocket, data: Uint8Array): void;
  maxPayloadLength?: number;
  perMessageDeflate?: boolean;
  idleTimeout?: number;
  backpressureLimit?: number;
}

/** Bun's ServerWebSocket (the part used here). */
export interface BunServerWebSocket extends PlatformSocket {
  data: unknown;
  /** How Bun hands binary messages over ('nodebuffer' by default; the route asks for 'uint8array'). */
  binaryType?: string;
  send(data: string | Uint8Array): number;
  ping?(data?: Uint8Array): number;
  terminate?(): void;
  getBufferedAmount?(): number;
}

export interface WebSocketRoute {
  /**
   * Upgrades `request`: resolves to the Response to return from the fetch handler (101 where the platform wants
   * one, a refusal's 4xx otherwise). Bun: pass the server as `env`; after a successful upgrade Bun ignores the
   * Response. A request that is no WebSocket upgrade at all gets 426.
   */
  upgrade(request: Request, env?: unknown): Response | Promise<Response>;
  /** Bun.serve's `websocket` option for this route's connections. */
  readonly websocket: BunWebSocketHandlers;
  /** The route's open sessions. */
  readonly connections: ReadonlySet<WebSocketStream>;
  /** Publish to every subscriber of `topic` (see Topics.publish); resolves to the number of sessions reached. */
  publish(topic: string, data: PublishData, options?: PublishOptions): number;
  /** The topics registry (subscribers, counters, backplane). */
  readonly topics: Topics;
  /** Counters: upgrades refused because their address held `maxConnectionsPerAddress` sessions. */
  readonly stats: { readonly refusedPerAddress: number };
  /** Closes every open session with 1001 (`reason`), and refuses further upgrades with 503. */
  close(reason?: string): void;
}

/** What a host that owns a request's socket (Node) offers: take it over with these accept options. */
export type SocketTakeover = (options: AcceptOptions) => WebSocketStream;

const takeovers = new WeakMap<Request, SocketTakeover>();
const offeredPeers = new WeakMap<Request, string>();

/**
 * A host offers the socket under `request` (Node's handleUpgrades): the codec then runs on it. `peerAddress` is
 * the socket's remote address (what `maxConnectionsPerAddress` counts, before `trustedProxies`).
 */
export function offerSocket(request: Request, takeover: SocketTakeover, peerAddress?: string): void {
  takeovers.set(request, takeover);
  if (peerAddress) offeredPeers.set(request, peerAddress);
}

/** True once a route took over the socket offered with `request`. */
export function socketTaken(request: Request): boolean {
  return takenRequests.has(request);
}
const takenRequests = new WeakSet<Request>();

/** A RequestHead (what the handshake package validates) from a fetch Request. */
export function requestHeadOf(request: Request): RequestHead {
  const url = new URL(request.url);
  const headers = new HeaderList();
  request.headers.forEach((value, name) => headers.append(name, value));
  if (!headers.has('host')) headers.append('host', url.host);
  // Some hosts drop hop-by-hop fields from the Request they hand over; the upgrade itself is what they mean.
  if (!headers.has('connection') && hasToken(headers.get('upgrade'), 'websocket')) headers.append('connection', 'Upgrade');
  return { method: request.method, target: url.pathname + url.search, version: '1.1', headers };
}

function headerList(h: HeaderInit | undefined): Array<[string, string]> {
  if (h === undefined) return [];
  return Array.isArray(h) ? h : Object.entries(h);
}

function refusal(status: number, headers: Array<[string, string]> = [], body?: string, reason?: string): Response {
  const text = body ?? `${STATUS_TEXT[status] ?? 'Error'}\n`;
  const h = new Headers(headers);
  if (!h.has('content-type')) h.set('content-type', 'text/plain; charset=utf-8');
  const init: ResponseInit = { status, headers: h };
  if (reason !== undefined) init.statusText = reason;
  return new Response(text, init);
}

interface DenoLike {
  upgradeWebSocket(request: Request, options?: { protocol?: string; idleTimeout?: number }): { socket: EventTargetSocket; response: Response };
}

/** A WHATWG-style WebSocket (Deno's, workerd's). */
interface EventTargetSocket extends PlatformSocket {
  readonly readyState: number;
  readonly bufferedAmount?: number;
  readonly extensions?: string;
  binaryType: string;
  addEventListener(type: string, listener: (ev: Event & { data?: unknown; code?: number; reason?: string; wasClean?: boolean; error?: unknown }) => void): void;
  accept?(): void;
}

type Platform = 'taken' | 'bun' | 'deno' | 'workerd' | 'none';


/** State kept on a Bun socket (ws.data) until it opens. */
interface BunPending {
  start(ws: BunServerWebSocket): void;
  conn: PlatformConnection | null;
  /** Events between Bun's open and the session's core (a few microtasks), replayed in order. */
  early: Array<(c: PlatformConnection) => void> | null;
}

function withBun(data: unknown, f: (c: PlatformConnection) => void): void {
  if (!isBunPending(data)) return;
  if (data.conn !== null) f(data.conn);
  else (data.early ??= []).push(f);
}

function isBunPending(x: unknown): x is BunPending {
  return typeof x === 'object' && x !== null && typeof (x as BunPending).start === 'function';
}

export function websocketRoute(options: RouteOptions & { webSocket: true }, handler: RouteWebSocketHandler): WebSocketRoute;
export function websocketRoute(options: RouteOptions, handler: RouteStreamHandler): WebSocketRoute;
export function websocketRoute(handler: RouteStreamHandler): WebSocketRoute;
export function websocketRoute(a: RouteOptions | RouteStreamHandler, b?: RouteStreamHandler | RouteWebSocketHandler): WebSocketRoute {
  const options: RouteOptions = typeof a === 'function' ? {} : a;
  const handler = (typeof a === 'function' ? a : b) as RouteStreamHandler | RouteWebSocketHandler;
  if (typeof handler !== 'function') throw new TypeError('websocketRoute needs a handler');
  const { permessageDeflate, webSocket, maxReadBacklog, onError, onRequest, topics: topicOpts, maxConnectionsPerAddress, trustedProxies, clientAddress, ...rest } = options;
  const admission = new Admission({ maxConnectionsPerAddress, trustedProxies });
  const accept: AcceptOptions = { ...rest };
  if (permessageDeflate !== undefined && accept.deflate === undefined) accept.deflate = permessageDeflate;
  const resolved: ResolvedOptions = resolveOptions(accept);
  const backlog = maxReadBacklog ?? DEFAULT_MAX_READ_BACKLOG;
  if (!(backlog >= 0)) throw new RangeError('maxReadBacklog must be >= 0');
  const topics = new Topics(topicOpts);
  const open = new Set<WebSocketStream>();
  let closing: string | null = null;
  const policy = { extensions: [] as never[], ...(accept.path !== undefined ? { path: accept.path } : {}), ...(accept.origins !== undefined ? { origins: accept.origins } : {}), ...(accept.protocols !== undefined ? { protocols: accept.protocols } : {}) };

  const report = (e: unknown, info: RouteInfo): void => {
    try {
      onError?.(e, info);
    } catch {
      /* a throwing error hook must not break the route */
    }
  };

  /** Runs the handler once the session is open; tracks the session (and its address's slot) until it closes. */
  const run = (ws: WebSocketStream, info: RouteInfo): void => {
    ws.topics = topics;
    const client = info.clientAddress;
    if (client !== '' && admission.maxOpenPerAddress !== Infinity) ws.closed.then(() => admission.closed(client), () => admission.closed(client));
    ws.opened.then(
      () => {
        if (closing !== null) return void ws.closeWithCode(1001, closing);
        open.add(ws);
        const drop = (): void => {
          open.delete(ws);
          topics.forget(ws);
        };
        ws.closed.then(drop, drop);
        const failed = (e: unknown): void => {
          report(e, info);
          try {
            ws.closeWithCode(1011, 'internal error');
          } catch {
            /* closed */
          }
        };
        let r: unknown;
        try {
          r = webSocket ? (handler as RouteWebSocketHandler)(wrapWebSocket(ws), info) : (handler as RouteStreamHandler)(ws, info);
        } catch (e) {
          return failed(e);
        }
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, failed);
      },
      (e: unknown) => {
        topics.forget(ws);
        report(e, info);
      },
    );
  };

  /** A session over a platform socket; `bind` wires the platform's events into the connection once it exists. */
  const platformSession = (
    head: RequestHead,
    url: string,
    protocol: string,
    binding: Omit<PlatformBinding, 'maxReadBacklog'>,
    opened: Promise<void>,
    onConn: (c: PlatformConnection) => void,
    extensions: () => string,
  ): WebSocketStream => {
    const guard = new HandshakeGuard(resolved.handshakeTimeout, undefined, 0);
    const ws = new WebSocketStream(url, guard, resolved, async () => {
      await guard.race(opened);
      return {
        role: 'server',
        rest: new Uint8Array(0),
        deflate: null,
        protocol,
        extensions: extensions(),
        request: head,
        core: (closed) => {
          const c = new PlatformConnection({ ...binding, maxReadBacklog: backlog }, resolved, closed);
          onConn(c);
          return c;
        },
      };
    }, 'platform');
    ws.request = head;
    return ws;
  };

  const detect = (request: Request, env: unknown): Platform => {
    if (takeovers.has(request)) return 'taken';
    if (env !== null && typeof env === 'object' && typeof (env as { upgrade?: unknown }).upgrade === 'function' && (globalThis as { Bun?: unknown }).Bun !== undefined) return 'bun';
    const deno = (globalThis as { Deno?: Partial<DenoLike> }).Deno;
    if (deno && typeof deno.upgradeWebSocket === 'function') return 'deno';
    if (typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair === 'function') return 'workerd';
    return 'none';
  };

  /** The host's peer address for `request` (see RouteOptions.clientAddress). */
  const peerOf = (request: Request, env: unknown, platform: Platform): string => {
    if (clientAddress) return clientAddress(request, env) ?? '';
    const e = env as { requestIP?: (r: Request) => { address?: string } | null; remoteAddr?: { hostname?: string }; socket?: { remoteAddress?: string } } | null | undefined;
    switch (platform) {
      case 'bun':
        return e?.requestIP?.(request)?.address ?? '';
      case 'taken':
        return offeredPeers.get(request) ?? e?.socket?.remoteAddress ?? '';
      case 'deno':
        return e?.remoteAddr?.hostname ?? '';
      case 'workerd':
        return request.headers.get('cf-connecting-ip') ?? '';
      default:
        return '';
    }
  };

  const proceed = (info: RouteInfo, platform: Platform, head: RequestHead, protocol: string, extra: Array<[string, string]>): Response => {
    const { request, env, clientAddress: client } = info;
    if (client !== '' && platform !== 'none' && !admission.open(client)) {
      const e = new HandshakeError(429, 'TOO_MANY_CONNECTIONS', `${client} holds maxConnectionsPerAddress sessions`, [['Retry-After', '1']]);
      report(e, info);
      return refusal(429, e.headers, `${e.message}\n`);
    }
    const url = request.url.replace(/^http/, 'ws');
    switch (platform) {
      case 'taken': {
        const takeover = takeovers.get(request)!;
        takeovers.delete(request);
        takenRequests.add(request);
        // The codec redoes the checks on the raw head (the stricter HTTP/1.1 ones too); onRequest already ran.
        const ws = takeover({ ...accept, headers: extra });
        run(ws, info);
        return new Response(null, { status: 200, headers: { 'x-streamsocket': 'upgraded' } });
      }
      case 'bun': {
        const server = env as { upgrade(req: Request, o: { data: unknown; headers?: HeadersInit }): boolean };
        const headers = new Headers(extra);
        if (protocol) headers.set('sec-websocket-protocol', protocol);
        let bunWs: BunServerWebSocket | null = null;
        let openedResolve!: () => void;
        const opened = new Promise<void>((r) => (openedResolve = r));
        const pending: BunPending = {
          conn: null,
          early: null,
          start(sock) {
            bunWs = sock;
            // Plain Uint8Array messages instead of Buffers: the session hands them on without re-viewing them.
            if (typeof sock.binaryType === 'string') sock.binaryType = 'uint8array';
            openedResolve();
          },
        };
        const binding: Omit<PlatformBinding, 'maxReadBacklog'> = {
          socket: { send: (d) => bunWs!.send(d), close: (c, r) => bunWs!.close(c, r) },
          sendSignalsBackpressure: true,
          bufferedAmount: () => bunWs?.getBufferedAmount?.() ?? 0,
          ping: (d) => void bunWs?.ping?.(d),
          terminate: () => bunWs?.terminate?.(),
        };
        const ws = platformSession(head, url, protocol, binding, opened, (c) => {
          pending.conn = c;
          const early = pending.early;
          pending.early = null;
          if (early) for (const f of early) f(c);
        }, () => '');
        if (!server.upgrade(request, { data: pending, headers })) {
          if (client !== '') admission.closed(client);
          ws.close();
          const e = new HandshakeError(400, 'UPGRADE_FAILED', 'Bun could not upgrade the request');
          report(e, info);
          return refusal(400);
        }
        run(ws, info);
        return new Response(null);
      }
      case 'deno': {
        const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
        let up: { socket: EventTargetSocket; response: Response };
        try {
          up = deno.upgradeWebSocket(request, protocol ? { protocol } : {});
        } catch (e) {
          if (client !== '') admission.closed(client);
          report(e, info);
          return refusal(400, [], `${e instanceof Error ? e.message : String(e)}\n`);
        }
        const sock = up.socket;
        for (const [k, v] of extra) {
          try {
            up.response.headers.append(k, v);
          } catch {
            /* immutable headers: nothing to add */
          }
        }
        const ws = bindEventSocket(sock, head, url, protocol);
        run(ws, info);
        return up.response;
      }
      case 'workerd': {
        const Pair = (globalThis as unknown as { WebSocketPair: new () => Record<0 | 1, EventTargetSocket> }).WebSocketPair;
        const pair = new Pair();
        const client = pair[0];
        const sock = pair[1];
        sock.accept?.();
        // An accepted server end is open: workerd fires no 'open' event on it.
        const ws = bindEventSocket(sock, head, url, protocol, true);
        run(ws, info);
        const headers = new Headers(extra);
        if (protocol) headers.set('sec-websocket-protocol', protocol);
        return new Response(null, { status: 101, headers, webSocket: client } as ResponseInit);
      }
      default: {
        const e = new HandshakeError(501, 'NO_UPGRADE', 'this host offers no way to upgrade a Request (Node: use handleUpgrades)');
        report(e, info);
        return refusal(501, [], `${e.message}\n`);
      }
    }
  };

  /** A WHATWG-style platform socket (Deno, workerd) as a session. */
  const bindEventSocket = (sock: EventTargetSocket, head: RequestHead, url: string, protocol: string, openNow = false): WebSocketStream => {
    sock.binaryType = 'arraybuffer';
    let conn: PlatformConnection | null = null;
    const early: Array<(c: PlatformConnection) => void> = [];
    const withConn = (f: (c: PlatformConnection) => void): void => {
      if (conn) f(conn);
      else early.push(f);
    };
    let openedResolve!: () => void;
    let openedReject!: (e: unknown) => void;
    const opened = new Promise<void>((res, rej) => {
      openedResolve = res;
      openedReject = rej;
    });
    if (openNow || sock.readyState === 1) openedResolve();
    sock.addEventListener('open', () => openedResolve());
    sock.addEventListener('message', (ev) => withConn((c) => c.onMessage(ev.data as string | ArrayBuffer)));
    sock.addEventListener('close', (ev) => {
      openedReject(new HandshakeError(0, 'CLOSED_BEFORE_OPEN', 'the WebSocket closed before it opened'));
      withConn((c) => c.onClose(ev.code ?? 1005, ev.reason ?? '', ev.wasClean !== false && ev.code !== 1006));
    });
    sock.addEventListener('error', (ev) => withConn((c) => c.onError(ev.error ?? new Error('WebSocket error'))));
    const binding: Omit<PlatformBinding, 'maxReadBacklog'> = {
      socket: sock,
      bufferedAmount: () => sock.bufferedAmount ?? 0,
    };
    return platformSession(head, url, protocol, binding, opened, (c) => {
      conn = c;
      for (const f of early.splice(0)) f(c);
    }, () => sock.extensions ?? '');
  };

  const upgrade = (request: Request, env?: unknown): Response | Promise<Response> => {
    if (closing !== null) return refusal(503, [['Retry-After', '1']]);
    const head = requestHeadOf(request);
    const platform = detect(request, env);
    const peer = peerOf(request, env, platform);
    const info: RouteInfo = { request, env, clientAddress: peer === '' ? '' : admission.clientAddress(peer, head.headers) };
    if (!hasToken(head.headers.get('upgrade'), 'websocket')) {
      return refusal(426, [['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13']]);
    }
    const result = validateRequest(head, policy);
    if (!result.ok) {
      report(result.error, info);
      return refusal(result.error.status, result.error.headers, `${result.error.message}\n`);
    }
    const hs = result.handshake;
    const extra = headerList(accept.headers);
    if (!onRequest) return proceed(info, platform, head, hs.protocol, extra);
    const decide = (verdict: Awaited<ReturnType<RequestHook>>): Response => {
      if (verdict && typeof verdict.status === 'number') {
        const e = new HandshakeError(verdict.status, 'REFUSED', 'the upgrade was refused by the onRequest hook', headerList(verdict.headers));
        report(e, info);
        try {
          return refusal(verdict.status, headerList(verdict.headers), verdict.body, verdict.reason);
        } catch {
          return refusal(500);
        }
      }
      return proceed(info, platform, head, hs.protocol, verdict?.headers ? extra.concat(headerList(verdict.headers)) : extra);
    };
    const failed = (e: unknown): Response => {
      report(e, info);
      return e instanceof HandshakeError ? refusal(e.status, e.headers, `${e.message}\n`) : refusal(500);
    };
    let v: ReturnType<RequestHook>;
    try {
      v = onRequest(head, hs);
    } catch (e) {
      return failed(e);
    }
    if (v && typeof (v as Promise<unknown>).then === 'function') return (v as Promise<Awaited<ReturnType<RequestHook>>>).then(decide, failed);
    return decide(v as Awaited<ReturnType<RequestHook>>);
  };

  const bunHandlers: BunWebSocketHandlers = {
    open(sock) {
      if (isBunPending(sock.data)) sock.data.start(sock);
    },
    message(sock, message) {
      withBun(sock.data, (c) => c.onMessage(message));
    },
    close(sock, code, reason) {
      withBun(sock.data, (c) => c.onClose(code, reason ?? ''));
    },
    drain(sock) {
      withBun(sock.data, (c) => c.onDrain());
    },
    pong(sock, data) {
      withBun(sock.data, (c) => c.onPong(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    },
    maxPayloadLength: resolved.maxMessageSize,
    // send() reports -1 (and a write waits for drain) past the writable's own high-water mark, as with our codec.
    backpressureLimit: resolved.writeHighWaterMark,
    perMessageDeflate: resolved.deflate !== null,
    // Our default is no idle timeout (Bun's is 120 s); idleTimeout, when set, is in ms here and seconds there.
    idleTimeout: resolved.idleTimeout > 0 ? Math.max(1, Math.ceil(resolved.idleTimeout / 1000)) : 0,
  };

  return {
    upgrade,
    websocket: bunHandlers,
    connections: open,
    stats: admission.stats,
    topics,
    publish: (topic, data, o) => topics.publish(topic, data, o),
    close(reason = 'server shutting down') {
      if (closing !== null) return;
      closing = reason;
      for (const ws of open) ws.closeWithCode(1001, reason);
    },
  };
}
