/**
 * Client role of the opening handshake over a byte duplex: write the request,
 * read and validate the 101. A refusal (any other status) or an invalid 101
 * rejects with HandshakeError carrying the status the server sent.
 */
import { HandshakeError, HeadReader, buildClientRequest, validateResponse } from '@streamsocket/handshake';
import type { ClientRequestOptions, ExtensionNegotiator, ResponseHead } from '@streamsocket/handshake';
import { permessageDeflate } from '@streamsocket/codec';
import type { DeflateAgreement } from '@streamsocket/codec';
import type { ChunkReader, HandshakeGuard } from './guard.js';
import type { ByteChannel } from './channel.js';
import type { CommonOptions, ResolvedOptions } from './options.js';
import { abortConn, writeOnce, type HeaderInit } from './server-handshake.js';

export interface ConnectOptions extends CommonOptions {
  /** Subprotocols to offer, in preference order. */
  protocols?: string[];
  /** Origin header to send (browsers send one; other clients usually don't). */
  origin?: string;
  /** Extra request headers (e.g. Authorization, Cookie). */
  headers?: HeaderInit;
  /** Extra extension negotiators, besides permessage-deflate (`deflate` option). */
  extensions?: ExtensionNegotiator[];
  /** Aborts the handshake: the connection is closed and `opened` rejects with the reason. */
  signal?: AbortSignal;
  /** Fixed Sec-WebSocket-Key, for tests only. */
  key?: string;
}

/** A refusal (non-101) rejects `opened` with this: the handshake error plus the response body. */
export type RefusedError = HandshakeError & { readonly body: string };

export interface ClientOpen {
  url: URL;
  protocol: string;
  extensions: string;
  response: ResponseHead;
  rest: Uint8Array;
  deflate: DeflateAgreement | null;
}

/** Builds the request first, so URL/protocol errors throw synchronously (like `new WebSocket()`). */
export function prepareRequest(url: string | URL, o: ResolvedOptions, c: ConnectOptions) {
  const extensions: ExtensionNegotiator[] = [];
  if (o.deflate) extensions.push(permessageDeflate(o.deflate) as ExtensionNegotiator);
  if (c.extensions) extensions.push(...c.extensions);
  const ro: ClientRequestOptions = { extensions };
  if (c.protocols !== undefined) ro.protocols = c.protocols;
  if (c.origin !== undefined) ro.origin = c.origin;
  if (c.headers !== undefined) ro.headers = c.headers;
  if (c.key !== undefined) ro.key = c.key;
  return buildClientRequest(url, ro);
}

export async function clientHandshake(
  conn: ByteChannel,
  req: ReturnType<typeof buildClientRequest>,
  o: ResolvedOptions,
  guard: HandshakeGuard,
): Promise<ClientOpen> {
  try {
    guard.check();
    writeOnce(conn, req.bytes);
    const reader = conn;
    let response: ResponseHead;
    let rest: Uint8Array;
    {
      const hr = new HeadReader('response', { maxHeadSize: o.maxHeadSize, maxHeaderCount: o.maxHeaderCount });
      for (;;) {
        const { done, value } = await guard.read(reader);
        if (done) throw new HandshakeError(0, 'INCOMPLETE_HEAD', 'the connection ended before the response head was complete');
        const r = hr.push(value);
        if (r) {
          response = r.head;
          rest = r.rest;
          break;
        }
      }
      if (response.status !== 101) {
        // A refusal: keep its body (bounded) for the error, it usually says why.
        const body = await readBody(reader, response, rest, o.maxHeadSize, guard);
        try {
          validateResponse(req, response);
        } catch (e) {
          if (e instanceof HandshakeError) Object.defineProperty(e, 'body', { value: body, enumerable: true });
          throw e;
        }
      }
    }
    const v = validateResponse(req, response);
    return {
      url: req.url,
      protocol: v.protocol,
      extensions: v.extensions,
      response,
      rest,
      deflate: (v.agreements.get('permessage-deflate') as DeflateAgreement | undefined) ?? null,
    };
  } catch (e) {
    abortConn(conn, e);
    throw e;
  }
}

const latin1Safe = new TextDecoder();

/**
 * Reads a refusal's body: Content-Length bytes, or until EOF when absent (the
 * server closes after an error response), never more than `limit` bytes and
 * never past the handshake timeout. Returns it decoded as UTF-8 ('' if none).
 */
async function readBody(
  reader: ChunkReader,
  res: ResponseHead,
  rest: Uint8Array,
  limit: number,
  guard: HandshakeGuard,
): Promise<string> {
  const cl = res.headers.get('content-length');
  const declared = cl !== undefined && /^[0-9]+$/.test(cl) ? Number(cl) : -1;
  const want = declared >= 0 ? Math.min(declared, limit) : limit;
  const parts: Uint8Array[] = [];
  let have = 0;
  const take = (b: Uint8Array): void => {
    const n = Math.min(b.byteLength, want - have);
    if (n > 0) {
      parts.push(b.subarray(0, n));
      have += n;
    }
  };
  take(rest);
  try {
    while (have < want) {
      const { done, value } = await guard.read(reader);
      if (done) break;
      take(value);
    }
  } catch {
    /* timeout or reset while reading the body: keep what arrived */
  }
  const all = new Uint8Array(have);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return latin1Safe.decode(all);
}
