/**
 * Fetch-style upgrades on a node:http (or https) server, and so on every framework built on one (hono's node
 * server, h3, fastify, express): `handleUpgrades(server, fetch)` makes a WHATWG Request of each 'upgrade' event,
 * offers its socket to the session's routes (offerSocket), and calls `fetch(request, env)`, the same handler the
 * framework runs for plain requests (hono's and h3's `app.fetch`) or any function that calls `route.upgrade()`.
 * A route that upgrades takes the socket over with our own codec (upgrade(req, socket, head)); any other Response
 * (a 401 from an auth middleware, the router's 404) is written to the socket as HTTP/1.1 and the socket closed.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { offerSocket, socketTaken } from '@streamsocket/session';
import { STATUS_TEXT } from '@streamsocket/handshake';
import { upgrade } from './upgrade.js';

/** What `fetch` gets beside the Request. */
export interface UpgradeEnv {
  incoming: IncomingMessage;
  socket: Duplex;
  head: Uint8Array;
}

export type UpgradeFetch = (request: Request, env: UpgradeEnv) => Response | undefined | void | Promise<Response | undefined | void>;

export interface HandleUpgradesOptions {
  /** Largest body of a non-101 Response written back; a longer one is cut. Default 64 KiB. */
  maxResponseBody?: number;
  /** ms a refused socket may take to read the response and go before it is destroyed. Default 2000. */
  lingerMs?: number;
  /** An upgrade whose `fetch` threw (answered 500). */
  onError?: (error: unknown, incoming: IncomingMessage) => void;
}

const noop = (): void => {};

/** Handles every 'upgrade' event of `server` through `fetch`; returns a function that stops doing so. */
export function handleUpgrades(server: HttpServer | HttpsServer, fetch: UpgradeFetch, options: HandleUpgradesOptions = {}): () => void {
  const maxBody = options.maxResponseBody ?? 64 * 1024;
  const linger = options.lingerMs ?? 2000;
  const secure = 'setSecureContext' in server;
  const listener = (incoming: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', noop); // until a session owns it (then its binding reports errors)
    let request: Request;
    try {
      request = requestOf(incoming, secure);
    } catch {
      return void respond(socket, new Response('bad request\n', { status: 400 }), maxBody, linger);
    }
    const bytes = new Uint8Array(head.buffer, head.byteOffset, head.byteLength);
    offerSocket(request, (o) => upgrade(incoming, socket, bytes, o), (socket as Partial<Socket>).remoteAddress);
    const env: UpgradeEnv = { incoming, socket, head: bytes };
    let r: ReturnType<UpgradeFetch>;
    try {
      r = fetch(request, env);
    } catch (e) {
      return fail(e);
    }
    Promise.resolve(r).then((res) => {
      if (socketTaken(request)) return;
      void respond(socket, res ?? new Response('not found\n', { status: 404 }), maxBody, linger);
    }, fail);

    function fail(e: unknown): void {
      try {
        options.onError?.(e, incoming);
      } catch {
        /* a throwing hook must not break the server */
      }
      if (!socketTaken(request)) void respond(socket, new Response('internal error\n', { status: 500 }), maxBody, linger);
    }
  };
  server.on('upgrade', listener);
  return () => void server.off('upgrade', listener);
}

/** The Request an 'upgrade' event stands for (GET, no body; headers as received). */
export function requestOf(incoming: IncomingMessage, secure = false): Request {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const host = incoming.headers.host ?? 'localhost';
  const url = new URL(incoming.url ?? '/', `${secure ? 'https' : 'http'}://${host}`);
  return new Request(url, { method: incoming.method ?? 'GET', headers });
}

/** Writes `res` as an HTTP/1.1 response, then half-closes; the socket is destroyed if the peer lingers. */
async function respond(socket: Duplex, res: Response, maxBody: number, linger: number): Promise<void> {
  let body = new Uint8Array(0);
  try {
    const buf = new Uint8Array(await res.arrayBuffer());
    body = buf.byteLength > maxBody ? buf.subarray(0, maxBody) : buf;
  } catch {
    /* unreadable body: headers only */
  }
  let head = `HTTP/1.1 ${res.status} ${res.statusText || STATUS_TEXT[res.status] || 'Unknown'}\r\n`;
  res.headers.forEach((v, k) => {
    if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') head += `${k}: ${v}\r\n`;
  });
  head += `content-length: ${body.byteLength}\r\nconnection: close\r\n\r\n`;
  if (socket.destroyed) return;
  socket.write(head);
  socket.end(body);
  const t = setTimeout(() => socket.destroy(), linger);
  t.unref?.();
  socket.once('close', () => clearTimeout(t));
}
