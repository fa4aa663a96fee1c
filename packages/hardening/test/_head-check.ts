/**
 * The head fuzz oracle, shared by the fuzz test and the corpus replay. One input is run through HeadReader (+
 * validateRequest / validateResponse) under several chunkings; every run must end in an accepted handshake, a
 * typed HandshakeError, or "incomplete" (only possible while under the head-size limit), and all chunkings must
 * agree exactly.
 */
import {
  HeadReader, HandshakeError, validateRequest, validateResponse, buildAcceptResponse, parseResponseHead,
  buildClientRequest, computeAccept, type ServerPolicy, type ClientRequest,
} from '@streamsocket/handshake';
import { permessageDeflate } from '@streamsocket/codec';
import { chunkings, concatBytes, toHex, type Rng } from '../src/index.js';

export const LIMITS = { maxHeadSize: 8192, maxHeaderCount: 40 };

export const POLICY: ServerPolicy = {
  protocols: ['mqtt', 'chat.v2'],
  extensions: [permessageDeflate()],
  origins: (o) => o !== 'https://evil.example',
};

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export function clientRequest(): ClientRequest {
  return buildClientRequest('ws://example.com:8080/chat?room=1', {
    origin: 'https://good.example', protocols: ['mqtt', 'chat.v2'], extensions: [permessageDeflate()], key: KEY,
  });
}

const enc = new TextEncoder();
export const VALID_REQUESTS: Uint8Array[] = [
  enc.encode('GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
  enc.encode('GET /mqtt?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n' +
    `Origin: https://good.example\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n` +
    'Sec-WebSocket-Protocol: mqtt, chat.v2\r\n' +
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate; server_no_context_takeover\r\n' +
    'User-Agent: fuzz/1.0\r\nAccept-Encoding: gzip, deflate\r\n\r\n'),
];
export function validResponses(req: ClientRequest): Uint8Array[] {
  return [
    enc.encode(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${req.expectedAccept}\r\n\r\n`),
    enc.encode(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${req.expectedAccept}\r\n` +
      'Sec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12; server_no_context_takeover\r\n\r\n'),
    enc.encode('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'),
  ];
}

/** A random but structured head: start line and headers drawn from a dictionary, values random. */
export function randomHead(rng: Rng, kind: 'request' | 'response'): Uint8Array {
  const names = ['Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol',
    'Sec-WebSocket-Extensions', 'Origin', 'Sec-WebSocket-Accept', 'Content-Length', 'Transfer-Encoding', 'X-A'];
  const values = ['websocket', 'Upgrade', '13', KEY, 'permessage-deflate', 'mqtt', '', ' ', '0', 'chunked', 'a,b',
    'permessage-deflate; client_max_window_bits=8', 'x; y="z"', '\t', 'example.com', 'http://a', computeAccept(KEY)];
  const start = kind === 'request'
    ? `${rng.pick(['GET', 'get', 'POST', 'G ET', ''])} ${rng.pick(['/', '/chat', '*', 'http://h/p', '/%zz', '//x', ''])} ${rng.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', ''])}`
    : `${rng.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2', ''])} ${rng.pick(['101', '200', '400', '999', '1O1', ''])} ${rng.pick(['Switching Protocols', '', 'x\ty'])}`;
  const ls = [start];
  const n = rng.int(12);
  for (let i = 0; i < n; i++) {
    const v = rng.bool(0.8) ? rng.pick(values) : String.fromCharCode(...rng.bytes(rng.int(10)).map((b) => 0x20 + (b % 95)));
    ls.push(`${rng.pick(names)}:${rng.pick(['', ' ', '  '])}${v}`);
  }
  const s = ls.join('\r\n') + '\r\n\r\n';
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

type Outcome = Record<string, unknown>;

/** Thrown for an oracle violation (not for a typed refusal, which is a valid outcome). */
export class OracleError extends Error {}

function runOne(kind: 'request' | 'response', chunks: Uint8Array[], req: ClientRequest): Outcome {
  const reader = new HeadReader(kind, LIMITS);
  let res: ReturnType<typeof reader.push> = null;
  let k = 0;
  let fed = 0;
  try {
    for (; k < chunks.length && res === null; k++) {
      fed += chunks[k]!.length;
      res = reader.push(chunks[k]!);
    }
  } catch (e) {
    return typed(kind, e, 'read');
  }
  if (res === null) {
    // Bounded buffering: an unterminated head may only be pending while it is under the limit.
    if (fed > LIMITS.maxHeadSize) throw new OracleError(`${fed} bytes buffered without an error (limit ${LIMITS.maxHeadSize})`);
    return { incomplete: fed };
  }
  const rest = toHex(concatBytes([res.rest, ...chunks.slice(k)]));
  const h = res.head;
  const headSummary = JSON.stringify(h.headers.entries());
  if (kind === 'request') {
    const head = h as import('@streamsocket/handshake').RequestHead;
    let v: ReturnType<typeof validateRequest>;
    try {
      v = validateRequest(head, POLICY);
    } catch (e) {
      throw new OracleError(`validateRequest threw instead of returning an error: ${String(e)}`);
    }
    if (!v.ok) return { ...typed(kind, v.error, 'validate'), head: headSummary, target: head.target, rest };
    const a = v.handshake;
    if (a.accept !== computeAccept(a.key)) throw new OracleError('accept does not match key');
    // The answer we would write must itself be a well-formed head.
    const resp = buildAcceptResponse(a);
    parseResponseHead(resp);
    return { ok: true, path: a.path, protocol: a.protocol, extensions: a.extensions, origin: a.origin ?? null, head: headSummary, rest };
  }
  const head = h as import('@streamsocket/handshake').ResponseHead;
  try {
    const v = validateResponse(req, head);
    return { ok: true, status: head.status, protocol: v.protocol, extensions: v.extensions, head: headSummary, rest };
  } catch (e) {
    return { ...typed(kind, e, 'validate'), head: headSummary, rest };
  }
}

function typed(kind: 'request' | 'response', e: unknown, stage: string): Outcome {
  if (!(e instanceof HandshakeError)) {
    throw new OracleError(`untyped ${stage} error: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  }
  if (typeof e.code !== 'string' || e.code === '') throw new OracleError(`HandshakeError without a code: ${e.message}`);
  if (kind === 'request' && !(Number.isInteger(e.status) && e.status >= 400 && e.status <= 599)) {
    throw new OracleError(`request refused with status ${e.status} (${e.code})`);
  }
  if (kind === 'response' && !(Number.isInteger(e.status) && (e.status === 0 || (e.status >= 100 && e.status <= 999)))) {
    throw new OracleError(`response error with status ${e.status} (${e.code})`);
  }
  return { error: e.code, status: e.status };
}

/** Runs the oracle; returns the agreed outcome. Throws OracleError naming the chunking on a violation. */
export function checkHead(kind: 'request' | 'response', input: Uint8Array, rng: Rng, req: ClientRequest = clientRequest()): Outcome {
  let first: { name: string; json: string } | null = null;
  for (const c of chunkings(input, rng, 3000)) {
    let out: Outcome;
    try {
      out = runOne(kind, c.chunks, req);
    } catch (e) {
      if (e instanceof OracleError) throw new OracleError(`[${c.name}] ${e.message}`);
      throw new OracleError(`[${c.name}] escaped: ${String(e)}`);
    }
    const json = JSON.stringify(out);
    if (first === null) first = { name: c.name, json };
    else if (first.json !== json) throw new OracleError(`chunkings disagree:\n  ${first.name}: ${first.json}\n  ${c.name}: ${json}`);
  }
  return JSON.parse(first!.json) as Outcome;
}
