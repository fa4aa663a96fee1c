/**
 * Client role of the opening handshake over a byte duplex: write the request,
 * read and validate the 101. A refusal (any other status) or an invalid 101
 * rejects with HandshakeError carrying the status the server sent.
 */
import { HandshakeError, HeadReader, buildClientRequest, validateResponse } from '@streamsocket/handshake';
import type { ClientRequestOptions, ExtensionNegotiator, ResponseHead } from '@streamsocket/handshake';
import { permessageDeflate } from '@streamsocket/codec';
import type { DeflateAgreement } from '@streamsocket/codec';
import type { HandshakeGuard } from './guard.js';
import type { ByteDuplex } from './pipe.js';
import type { CommonOptions, ResolvedOptions } from './options.js';
import { abortConn, type HeaderInit } from './server-handshake.js';

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

export interface ClientOpen {
  url: URL;
  protocol: string;
  extensions: string;
  response: ResponseHead;
  rest: Uint8Array;
  deflate: DeflateAgreement | null;
}

const noop = (): void => {};

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
  conn: ByteDuplex,
  req: ReturnType<typeof buildClientRequest>,
  o: ResolvedOptions,
  guard: HandshakeGuard,
): Promise<ClientOpen> {
  try {
    guard.check();
    const w = conn.writable.getWriter();
    w.write(req.bytes).catch(noop);
    w.releaseLock();
    const reader = conn.readable.getReader();
    let response: ResponseHead;
    let rest: Uint8Array;
    try {
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
    } finally {
      reader.releaseLock();
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
