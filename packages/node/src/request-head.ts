/**
 * Node's http parser has already consumed the request head by the time an 'upgrade' event fires. To hand the
 * session a `RequestHead` that went through the *same* checks as one we read off the wire ourselves (field
 * syntax, smuggling patterns, duplicate Host, head-size and header-count limits), we re-serialise what Node
 * parsed and run it through the handshake package's parser rather than trusting Node's view.
 *
 * `rawHeaders` keeps names' casing, order and repeats; Node decodes header bytes as latin1, so encoding back as
 * latin1 restores the original octets (obs-text included) for the handshake parser to judge.
 */
import type { IncomingMessage } from 'node:http';
import { parseRequestHead, type HeadLimits, type RequestHead } from '@streamsocket/handshake';

export function serializeIncomingHead(req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): Uint8Array {
  let s = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion || '1.1'}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  s += '\r\n';
  const buf = Buffer.from(s, 'latin1');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Rebuilds and re-validates the request head of an 'upgrade' event. Throws HandshakeError (400/431 ...). */
export function requestHeadFromIncoming(
  req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>,
  limits?: HeadLimits,
): RequestHead {
  return parseRequestHead(serializeIncomingHead(req), limits);
}
