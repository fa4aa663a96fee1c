/**
 * Node's http parser has already consumed the request head by the time an 'upgrade' event fires. To make the
 * session see the *same* bytes a standalone server would, we re-serialise what Node parsed; the session then
 * parses it with the handshake package (field syntax, smuggling patterns, duplicate Host, head-size and
 * header-count limits) instead of trusting Node's view, and answers any refusal itself.
 *
 * `rawHeaders` keeps names' casing, order and repeats; Node decodes header bytes as latin1, so encoding back as
 * latin1 restores the original octets (obs-text included) for the handshake parser to judge.
 */
import type { IncomingMessage } from 'node:http';

export function serializeIncomingHead(req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): Uint8Array {
  let s = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion || '1.1'}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  s += '\r\n';
  const buf = Buffer.from(s, 'latin1');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
