/**
 * Server role of the opening handshake over a byte duplex: read the request
 * head (bounded), validate it and apply the policy (origin, path, subprotocol,
 * extensions incl. permessage-deflate), run the user's `onRequest` hook, then
 * write the 101 or an error response (and close the connection).
 */
import {
  HandshakeError,
  HeadReader,
  buildAcceptResponse,
  buildErrorResponse,
  errorResponse,
  validateRequest,
} from '@streamsocket/handshake';
import type { AcceptedHandshake, ExtensionNegotiator, RequestHead, ServerPolicy } from '@streamsocket/handshake';
import { permessageDeflate, deflateAvailable, loadZlib } from '@streamsocket/codec';
import type { DeflateAgreement } from '@streamsocket/codec';
import type { HandshakeGuard } from './guard.js';
import type { ByteChannel } from './channel.js';
import type { CommonOptions, ResolvedOptions } from './options.js';
import { timers, type TimerTarget } from './timers.js';

export type HeaderInit = Array<[string, string]> | Record<string, string>;

/** What `onRequest` returns to refuse the upgrade. */
export interface Refusal {
  /** HTTP status, 200-599 (e.g. 401, 403, 429, 503). */
  status: number;
  headers?: HeaderInit;
  /** Response body (text/plain). Default: the reason phrase. */
  body?: string;
  /** Reason phrase. Default: the standard one for the status. */
  reason?: string;
}

/** What `onRequest` returns to accept with extra headers on the 101 (e.g. Set-Cookie). */
export interface Acceptance {
  status?: undefined;
  headers?: HeaderInit;
}

export type RequestHook = (
  request: RequestHead,
  handshake: AcceptedHandshake,
) => void | undefined | Refusal | Acceptance | Promise<void | undefined | Refusal | Acceptance>;

export interface AcceptOptions extends CommonOptions {
  /** Allowed origins, or a predicate. Failure answers 403. Default: any origin. */
  origins?: ServerPolicy['origins'];
  /** Supported subprotocols in preference order, or a selector. Default: none selected. */
  protocols?: ServerPolicy['protocols'];
  /** Path (exact, without query) or predicate. Failure answers 404. Default: any path. */
  path?: ServerPolicy['path'];
  /** Extra extension negotiators, besides permessage-deflate (`deflate` option). */
  extensions?: ExtensionNegotiator[];
  /** Last word on an otherwise valid request: return a Refusal to answer it with an error status. */
  onRequest?: RequestHook;
  /** Extra headers for every 101 response. */
  headers?: HeaderInit;
  /**
   * The request head, when the host already parsed it (Node's 'upgrade' event).
   * Then `rest` holds the bytes that followed the head, and `conn.readable`
   * continues after them.
   */
  request?: RequestHead;
  rest?: Uint8Array;
  /** Aborts the handshake (the connection is closed, `opened` rejects with the reason). */
  signal?: AbortSignal;
  /** The connection is TLS: `url` is reported as wss: instead of ws:. */
  secure?: boolean;
}

export interface ServerOpen {
  handshake: AcceptedHandshake;
  rest: Uint8Array;
  deflate: DeflateAgreement | null;
}

const EMPTY = new Uint8Array(0);
const noop = (): void => {};

function headerList(h: HeaderInit | undefined): Array<[string, string]> {
  if (h === undefined) return [];
  return Array.isArray(h) ? h : Object.entries(h);
}

export function serverPolicy(o: ResolvedOptions, a: AcceptOptions): ServerPolicy {
  const extensions: ExtensionNegotiator[] = [];
  if (o.deflate) extensions.push(permessageDeflate(o.deflate) as ExtensionNegotiator);
  if (a.extensions) extensions.push(...a.extensions);
  const p: ServerPolicy = { extensions };
  if (a.origins !== undefined) p.origins = a.origins;
  if (a.protocols !== undefined) p.protocols = a.protocols;
  if (a.path !== undefined) p.path = a.path;
  return p;
}

/** Reads the request head; the guard bounds time and handles abort. */
async function readRequest(reader: ByteChannel, o: ResolvedOptions, guard: HandshakeGuard): Promise<{ head: RequestHead; rest: Uint8Array }> {
  const hr = new HeadReader('request', { maxHeadSize: o.maxHeadSize, maxHeaderCount: o.maxHeaderCount });
  for (;;) {
    const { done, value } = await guard.read(reader);
    if (done) throw new HandshakeError(400, 'INCOMPLETE_HEAD', 'the connection ended before the request head was complete');
    const r = hr.push(value);
    if (r) return { head: r.head, rest: r.rest };
  }
}

/** `read`: the head and the bytes after it when the caller already read them (ServerCore, see pending-head.ts). */
export async function serverHandshake(
  conn: ByteChannel,
  o: ResolvedOptions,
  a: AcceptOptions,
  guard: HandshakeGuard,
  read: { head: RequestHead; rest: Uint8Array } | null = null,
): Promise<ServerOpen> {
  let head: RequestHead;
  let rest: Uint8Array;
  try {
    if (read !== null) {
      guard.check();
      ({ head, rest } = read);
    } else if (a.request) {
      guard.check();
      head = a.request;
      rest = a.rest ?? EMPTY;
    } else {
      ({ head, rest } = await readRequest(conn, o, guard));
    }
  } catch (e) {
    // Malformed or oversized heads get their 4xx; a timeout or abort just closes.
    if (e instanceof HandshakeError && guard.failure === null) await respondAndClose(conn, errorResponse(e), o.closeTimeout);
    else abortConn(conn, e);
    throw e;
  }

  // Runtimes without process.getBuiltinModule load zlib lazily; before that the negotiator declines.
  if (o.deflate && !deflateAvailable) await loadZlib();
  const result = validateRequest(head, serverPolicy(o, a));
  if (!result.ok) {
    await respondAndClose(conn, errorResponse(result.error), o.closeTimeout);
    throw result.error;
  }
  const handshake = result.handshake;

  let extra = headerList(a.headers);
  if (a.onRequest) {
    let verdict: Awaited<ReturnType<RequestHook>>;
    try {
      verdict = await guard.race(a.onRequest(head, handshake));
    } catch (e) {
      if (guard.failure !== null) abortConn(conn, e);
      else if (e instanceof HandshakeError) await respondAndClose(conn, errorResponse(e), o.closeTimeout);
      else await respondAndClose(conn, buildErrorResponse(500), o.closeTimeout);
      throw e;
    }
    if (verdict && typeof verdict.status === 'number') {
      const headers = headerList(verdict.headers);
      const opts: { headers: Array<[string, string]>; body?: string; reason?: string } = { headers };
      if (verdict.body !== undefined) opts.body = verdict.body;
      if (verdict.reason !== undefined) opts.reason = verdict.reason;
      const err = new HandshakeError(verdict.status, 'REFUSED', 'the upgrade was refused by the onRequest hook', headers);
      let bytes: Uint8Array;
      try {
        bytes = buildErrorResponse(verdict.status, opts);
      } catch {
        bytes = buildErrorResponse(500); // the hook returned an unusable status/header
      }
      await respondAndClose(conn, bytes, o.closeTimeout);
      throw err;
    }
    if (verdict && verdict.headers) extra = extra.concat(headerList(verdict.headers));
  }

  let response: Uint8Array;
  try {
    response = buildAcceptResponse(handshake, extra);
  } catch (e) {
    await respondAndClose(conn, buildErrorResponse(500), o.closeTimeout);
    throw e;
  }
  writeOnce(conn, response);
  return {
    handshake,
    rest,
    deflate: (handshake.agreements.get('permessage-deflate') as DeflateAgreement | undefined) ?? null,
  };
}

/** Writes `bytes` ahead of everything written later (the 101, a client's request). */
export function writeOnce(conn: ByteChannel, bytes: Uint8Array): void {
  conn.write(bytes);
}

/** Closes both directions at once (timeout, abort, failure while reading). */
export function abortConn(conn: ByteChannel, reason: unknown): void {
  conn.abort(reason);
}

/** Timer target that aborts a connection whose error response did not flush in time. */
class FlushDeadline implements TimerTarget {
  constructor(private readonly conn: ByteChannel) {}
  onTimer(): void {
    this.conn.abort(new Error('timed out flushing the response'));
  }
}

/**
 * Writes a final response, half-closes (flushes, FIN), then stops reading (the channel drains until the
 * peer's FIN, bounded). Bounded by `timeoutMs` in case the peer does not read.
 */
export async function respondAndClose(conn: ByteChannel, bytes: Uint8Array, timeoutMs: number): Promise<void> {
  const deadline = timers.schedule(new FlushDeadline(conn), 0, timeoutMs);
  conn.write(bytes);
  await conn.end().catch(noop); // a peer gone meanwhile: nothing more to do
  timers.cancel(deadline);
  await conn.cancel();
}
