import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HeadReader,
  HandshakeError,
  HeaderList,
  parseRequestHead,
  validateRequest,
  buildAcceptResponse,
  buildErrorResponse,
  errorResponse,
  type ExtensionNegotiator,
  type ExtensionParams,
  type RequestHead,
  type ServerPolicy,
} from '../src/index.js';
import { enc, dec, head, goodRequestLines, GOOD_ACCEPT, GOOD_KEY } from './_util.js';

const MQTT_REQUEST = [
  'GET /mqtt HTTP/1.1',
  'Host: broker.mqttdashboard.com:8000',
  'Connection: Upgrade',
  'Pragma: no-cache',
  'Cache-Control: no-cache',
  'Upgrade: websocket',
  'Origin: http://www.hivemq.com',
  'Sec-WebSocket-Version: 13',
  'User-Agent: Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.110 Safari/537.36',
  'Accept-Encoding: gzip, deflate, sdch',
  'Accept-Language: en-US,en;q=0.8',
  'Sec-WebSocket-Key: OfMWmQZlMFBWe/o7k1CzZg==',
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
  'Sec-WebSocket-Protocol: mqttv3.1',
].join('\r\n') + '\r\n\r\n';

const MQTT_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: PqfV+Vb3mDtpMlZ/bO+GBzyX4N8=\r\n' +
  'Sec-WebSocket-Protocol: mqttv3.1\r\n' +
  '\r\n';

function accept(bytes: Uint8Array, policy?: ServerPolicy): Uint8Array {
  const r = new HeadReader('request').push(bytes);
  assert.ok(r);
  const v = validateRequest(r.head, policy);
  if (!v.ok) throw v.error;
  return buildAcceptResponse(v.handshake);
}

test('MQTT handshake (one chunk) is answered with exactly the expected bytes', () => {
  const out = accept(enc(MQTT_REQUEST), { protocols: ['mqttv3.1', 'mqtt'] });
  assert.is(dec(out), MQTT_RESPONSE);
});

test('MQTT handshake fed one byte at a time gives the same answer', () => {
  const bytes = enc(MQTT_REQUEST);
  const reader = new HeadReader('request');
  let r = null;
  for (let i = 0; i < bytes.length && !r; i++) r = reader.push(bytes.subarray(i, i + 1));
  assert.ok(r);
  const v = validateRequest(r.head, { protocols: ['mqttv3.1', 'mqtt'] });
  assert.ok(v.ok);
  if (v.ok) {
    assert.is(dec(buildAcceptResponse(v.handshake)), MQTT_RESPONSE);
    assert.is(v.handshake.origin, 'http://www.hivemq.com');
    assert.is(v.handshake.path, '/mqtt');
    assert.is(v.handshake.key, 'OfMWmQZlMFBWe/o7k1CzZg==');
    assert.is(v.handshake.extensions, '');
    assert.is(v.handshake.agreements.size, 0);
  }
});

const reqOf = (lines: string[]): RequestHead => parseRequestHead(enc(head(...lines)));
const good = (): string[] => goodRequestLines();
const replace = (name: string, line: string | null): string[] => {
  const out = good().filter((l) => !l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  if (line !== null) out.push(line);
  return out;
};

function rejects(lines: string[], status: number, code: string, policy?: ServerPolicy): HandshakeError {
  const v = validateRequest(reqOf(lines), policy);
  assert.is(v.ok, false, `expected ${code}`);
  if (v.ok) throw new Error('unreachable');
  assert.is(v.error.code, code);
  assert.is(v.error.status, status);
  return v.error;
}

test('valid request: accepted with the RFC accept value', () => {
  const v = validateRequest(reqOf(good()));
  assert.ok(v.ok);
  if (v.ok) {
    assert.is(v.handshake.accept, GOOD_ACCEPT);
    assert.is(v.handshake.key, GOOD_KEY);
    assert.is(v.handshake.protocol, '');
    assert.is(v.handshake.origin, undefined);
  }
});

test('header tokens are case-insensitive and found in comma lists', () => {
  const lines = replace('upgrade', 'Upgrade: foo, WebSocket');
  const l2 = lines.filter((l) => !l.startsWith('Connection')).concat('connection: keep-alive, UPGRADE');
  assert.ok(validateRequest(reqOf(l2)).ok);
});

test('method other than GET -> 405 with Allow: GET', () => {
  const e = rejects(['POST /chat HTTP/1.1', ...good().slice(1)], 405, 'METHOD_NOT_ALLOWED');
  assert.equal(e.headers, [['Allow', 'GET']]);
  rejects(['get /chat HTTP/1.1', ...good().slice(1)], 405, 'METHOD_NOT_ALLOWED');
});

test('HTTP/1.0 and HTTP/2.0 -> 505; HTTP/1.2 accepted (1.1 or later)', () => {
  rejects(['GET /chat HTTP/1.0', ...good().slice(1)], 505, 'BAD_HTTP_VERSION');
  rejects(['GET /chat HTTP/2.0', ...good().slice(1)], 505, 'BAD_HTTP_VERSION');
  assert.ok(validateRequest(reqOf(['GET /chat HTTP/1.2', ...good().slice(1)])).ok);
});

test('Host missing or invalid -> 400', () => {
  rejects(replace('host', null), 400, 'MISSING_HOST');
  rejects(replace('host', 'Host:'), 400, 'BAD_HOST');
  rejects(replace('host', 'Host: a b'), 400, 'BAD_HOST');
  rejects(replace('host', 'Host: user@evil'), 400, 'BAD_HOST');
  assert.ok(validateRequest(reqOf(replace('host', 'Host: [::1]:8080'))).ok);
  // Hand-built heads can carry duplicates the parser would have rejected.
  const h = new HeaderList(reqOf(good()).headers.entries());
  h.append('Host', 'other');
  const v = validateRequest({ method: 'GET', target: '/', version: '1.1', headers: h });
  assert.is(v.ok ? '' : v.error.code, 'BAD_HOST');
});

test('body on an upgrade -> 400 (Transfer-Encoding always, Content-Length unless 0)', () => {
  rejects([...good(), 'Transfer-Encoding: chunked'], 400, 'BODY_NOT_ALLOWED');
  rejects([...good(), 'Transfer-Encoding: identity'], 400, 'BODY_NOT_ALLOWED');
  rejects([...good(), 'Content-Length: 5'], 400, 'BODY_NOT_ALLOWED');
  rejects([...good(), 'Content-Length: 0, 0'], 400, 'BODY_NOT_ALLOWED');
  rejects([...good(), 'Content-Length: -0'], 400, 'BODY_NOT_ALLOWED');
  assert.ok(validateRequest(reqOf([...good(), 'Content-Length: 0'])).ok);
});

test('Upgrade / Connection tokens -> 400', () => {
  rejects(replace('upgrade', null), 400, 'BAD_UPGRADE');
  rejects(replace('upgrade', 'Upgrade: websocket2'), 400, 'BAD_UPGRADE');
  rejects(replace('upgrade', 'Upgrade: h2c'), 400, 'BAD_UPGRADE');
  rejects(replace('connection', null), 400, 'BAD_CONNECTION');
  rejects(replace('connection', 'Connection: keep-alive'), 400, 'BAD_CONNECTION');
  rejects(replace('connection', 'Connection: upgrade2'), 400, 'BAD_CONNECTION');
});

test('Sec-WebSocket-Version other than 13 -> 426 with Sec-WebSocket-Version: 13', () => {
  for (const v of ['8', '14', '13, 8', '', ' 13x']) {
    const e = rejects(replace('sec-websocket-version', `Sec-WebSocket-Version: ${v}`), 426, 'BAD_VERSION');
    assert.equal(e.headers, [['Sec-WebSocket-Version', '13']]);
  }
  rejects(replace('sec-websocket-version', null), 426, 'BAD_VERSION');
});

test('Sec-WebSocket-Key must be strict base64 of 16 bytes -> 400', () => {
  for (const k of ['', 'abc', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZR==', 'dGhlIHNhbXBsZSBub25jZQ==x',
    'dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZSBz', 'dGhlIHNhbXBsZSBub25j$Q==', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
    rejects(replace('sec-websocket-key', `Sec-WebSocket-Key: ${k}`), 400, 'BAD_KEY');
  }
  rejects(replace('sec-websocket-key', null), 400, 'BAD_KEY');
});

test('path policy -> 404', () => {
  rejects(good(), 404, 'NOT_FOUND', { path: '/other' });
  assert.ok(validateRequest(reqOf(good()), { path: '/chat' }).ok);
  assert.ok(validateRequest(reqOf(['GET /chat?x=1 HTTP/1.1', ...good().slice(1)]), { path: '/chat' }).ok);
  rejects(good(), 404, 'NOT_FOUND', { path: (p) => p.startsWith('/api/') });
  const v = validateRequest(reqOf(['GET /api/x?q HTTP/1.1', ...good().slice(1)]), { path: (p) => p === '/api/x?q' });
  assert.ok(v.ok);
});

test('absolute-form target is reduced to a path', () => {
  const v = validateRequest(reqOf(['GET ws://server.example.com/chat?x HTTP/1.1', ...good().slice(1)]));
  assert.is(v.ok && v.handshake.path, '/chat?x');
  const v2 = validateRequest(reqOf(['GET http://server.example.com?x HTTP/1.1', ...good().slice(1)]));
  assert.is(v2.ok && v2.handshake.path, '/?x');
  const v3 = validateRequest(reqOf(['GET http://server.example.com HTTP/1.1', ...good().slice(1)]));
  assert.is(v3.ok && v3.handshake.path, '/');
});

test('origin policy -> 403', () => {
  const withOrigin = [...good(), 'Origin: https://App.Example'];
  assert.ok(validateRequest(reqOf(withOrigin), { origins: ['https://app.example'] }).ok);
  rejects(withOrigin, 403, 'FORBIDDEN_ORIGIN', { origins: ['https://other.example'] });
  rejects(good(), 403, 'FORBIDDEN_ORIGIN', { origins: ['https://app.example'] });
  let seen: unknown = 'not called';
  assert.ok(validateRequest(reqOf(good()), { origins: (o) => ((seen = o), true) }).ok);
  assert.is(seen, undefined);
  rejects(withOrigin, 403, 'FORBIDDEN_ORIGIN', { origins: (o) => o === 'https://x' });
  const h = new HeaderList(reqOf(withOrigin).headers.entries());
  h.append('Origin', 'https://b');
  const v = validateRequest({ method: 'GET', target: '/', version: '1.1', headers: h });
  assert.is(v.ok ? '' : v.error.code, 'BAD_ORIGIN');
});

test('subprotocols: server preference order, several header lines', () => {
  const lines = [...good(), 'Sec-WebSocket-Protocol: chat, superchat', 'Sec-WebSocket-Protocol: mqtt'];
  const pick = (protocols: ServerPolicy['protocols']) => {
    const v = validateRequest(reqOf(lines), protocols === undefined ? {} : { protocols });
    if (!v.ok) throw v.error;
    return v.handshake.protocol;
  };
  assert.is(pick(['mqtt', 'chat']), 'mqtt');
  assert.is(pick(['superchat', 'chat']), 'superchat');
  assert.is(pick(['other']), '');
  assert.is(pick(undefined), '');
  assert.is(pick((offered) => offered[2]), 'mqtt');
  assert.is(pick(() => null), '');
  assert.is(pick(() => undefined), '');
  // A callback is not asked when nothing was offered.
  let called = false;
  const v = validateRequest(reqOf(good()), { protocols: () => ((called = true), 'x') });
  assert.ok(v.ok);
  assert.is(called, false);
});

test('subprotocols: callback answering an unoffered protocol -> 500', () => {
  rejects([...good(), 'Sec-WebSocket-Protocol: chat'], 500, 'BAD_PROTOCOL_SELECTION', { protocols: () => 'other' });
});

test('subprotocols: invalid or duplicate -> 400', () => {
  rejects([...good(), 'Sec-WebSocket-Protocol: chat, chat'], 400, 'DUPLICATE_PROTOCOL', { protocols: ['chat'] });
  rejects([...good(), 'Sec-WebSocket-Protocol: chat', 'Sec-WebSocket-Protocol: chat'], 400, 'DUPLICATE_PROTOCOL');
  rejects([...good(), 'Sec-WebSocket-Protocol: a b'], 400, 'BAD_PROTOCOL');
  rejects([...good(), 'Sec-WebSocket-Protocol: a/b'], 400, 'BAD_PROTOCOL');
});

/** A toy negotiator recording what it was given. */
function fake(name: string, answer: ExtensionParams | null | 'throw'): ExtensionNegotiator<string> & { got: ExtensionParams[][] } {
  const got: ExtensionParams[][] = [];
  return {
    name,
    got,
    offer: () => [{}],
    negotiate(offers) {
      got.push(offers);
      if (answer === 'throw') throw new HandshakeError(400, 'BAD_EXTENSION_PARAMS', 'bad params');
      return answer === null ? null : { response: answer, agreement: `${name}-agreement` };
    },
    confirm: () => name,
  };
}

test('extensions: offers grouped by name in order, negotiators called, response serialised', () => {
  const deflate = fake('permessage-deflate', { server_no_context_takeover: true, client_max_window_bits: '10' });
  const other = fake('x-other', {});
  const declined = fake('x-declined', null);
  const lines = [
    ...good(),
    'Sec-WebSocket-Extensions: x-unknown, permessage-deflate; client_max_window_bits=10, X-Other',
    'Sec-WebSocket-Extensions: permessage-deflate, x-declined; a="b"',
  ];
  const v = validateRequest(reqOf(lines), { extensions: [other, deflate, declined] });
  if (!v.ok) throw v.error;
  assert.equal(deflate.got, [[{ client_max_window_bits: '10' }, {}]]);
  assert.equal(declined.got, [[{ a: 'b' }]]);
  assert.is(v.handshake.extensions, 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10, x-other');
  assert.is(v.handshake.agreements.get('permessage-deflate'), 'permessage-deflate-agreement');
  assert.is(v.handshake.agreements.get('x-other'), 'x-other-agreement');
  assert.is(v.handshake.agreements.has('x-declined'), false);
  const bytes = dec(buildAcceptResponse(v.handshake));
  assert.ok(bytes.includes('\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10, x-other\r\n'));
});

test('extensions: no negotiators -> nothing accepted; bad syntax -> 400; negotiator errors pass through', () => {
  const v = validateRequest(reqOf([...good(), 'Sec-WebSocket-Extensions: permessage-deflate']));
  assert.is(v.ok && v.handshake.extensions, '');
  rejects([...good(), 'Sec-WebSocket-Extensions: permessage-deflate; x="a b"'], 400, 'BAD_EXTENSIONS', { extensions: [] });
  rejects([...good(), 'Sec-WebSocket-Extensions: permessage-deflate'], 400, 'BAD_EXTENSION_PARAMS', {
    extensions: [fake('permessage-deflate', 'throw')],
  });
});

test('extensions: an offer with a repeated parameter is declined alone, the next offer still counts (RFC 7692 7.1)', () => {
  const deflate = fake('permessage-deflate', { client_max_window_bits: '12' });
  const lines = [...good(), 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; server_max_window_bits=11, permessage-deflate; client_max_window_bits=12'];
  const v = validateRequest(reqOf(lines), { extensions: [deflate] });
  if (!v.ok) throw v.error;
  assert.equal(deflate.got, [[{ client_max_window_bits: '12' }]]);
  assert.is(v.handshake.extensions, 'permessage-deflate; client_max_window_bits=12');
  // Only repeated offers: nothing to negotiate, the handshake itself still succeeds without the extension.
  const only = fake('permessage-deflate', {});
  const w = validateRequest(reqOf([...good(), 'Sec-WebSocket-Extensions: permessage-deflate; a; a']), { extensions: [only] });
  if (!w.ok) throw w.error;
  assert.equal(only.got, []);
  assert.is(w.handshake.extensions, '');
});

test('non-HandshakeError exceptions from policy callbacks propagate', () => {
  assert.throws(() => validateRequest(reqOf(good()), { path: () => { throw new TypeError('boom'); } }), TypeError);
});

test('buildAcceptResponse: extra headers appended and validated', () => {
  const v = validateRequest(reqOf(good()));
  if (!v.ok) throw v.error;
  const s = dec(buildAcceptResponse(v.handshake, [['X-Server', 'streamsocket']]));
  assert.is(s, `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${GOOD_ACCEPT}\r\nX-Server: streamsocket\r\n\r\n`);
  assert.throws(() => buildAcceptResponse(v.handshake, [['X-A', 'a\r\nSet-Cookie: x']]), TypeError);
  assert.throws(() => buildAcceptResponse(v.handshake, [['X A', 'a']]), TypeError);
  assert.throws(() => buildAcceptResponse(v.handshake, [['X-A', 'a\x00']]), TypeError);
  assert.throws(() => buildAcceptResponse(v.handshake, [['X-A', ' a']]), TypeError);
  assert.throws(() => buildAcceptResponse(v.handshake, [['X-A', '\u20ac']]), TypeError);
});

test('buildErrorResponse: Connection close, text/plain, Content-Length, body', () => {
  assert.is(
    dec(buildErrorResponse(403)),
    'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\n\r\nForbidden\n',
  );
  const s = dec(buildErrorResponse(426, { headers: [['Sec-WebSocket-Version', '13']], body: 'h\u00e9' }));
  assert.is(s, 'HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nSec-WebSocket-Version: 13\r\n\r\nh\xc3\xa9');
  assert.ok(dec(buildErrorResponse(499, { reason: 'Custom' })).startsWith('HTTP/1.1 499 Custom\r\n'));
  assert.ok(dec(buildErrorResponse(499)).startsWith('HTTP/1.1 499 Error\r\n'));
  assert.throws(() => buildErrorResponse(101), RangeError);
  assert.throws(() => buildErrorResponse(400.5), RangeError);
  assert.throws(() => buildErrorResponse(400, { reason: 'a\r\nb' }), TypeError);
  assert.throws(() => buildErrorResponse(400, { headers: [['A', '\n']] }), TypeError);
});

test('errorResponse: maps every rejection to a response with its status and headers', () => {
  const cases: Array<[string[], string]> = [
    [['POST / HTTP/1.1', ...good().slice(1)], 'HTTP/1.1 405 Method Not Allowed\r\n'],
    [replace('sec-websocket-version', 'Sec-WebSocket-Version: 7'), 'HTTP/1.1 426 Upgrade Required\r\n'],
    [replace('sec-websocket-key', null), 'HTTP/1.1 400 Bad Request\r\n'],
  ];
  for (const [lines, start] of cases) {
    const v = validateRequest(reqOf(lines));
    if (v.ok) throw new Error('expected failure');
    const s = dec(errorResponse(v.error));
    assert.ok(s.startsWith(start), s);
    assert.ok(s.endsWith(`\r\n\r\n${v.error.message}\n`));
    for (const [n, val] of v.error.headers) assert.ok(s.includes(`\r\n${n}: ${val}\r\n`));
  }
  // Parse errors too, e.g. 431 from the reader.
  try {
    new HeadReader('request', { maxHeadSize: 8 }).push(enc('GET /aaaaaaa'));
  } catch (e) {
    assert.ok(dec(errorResponse(e as HandshakeError)).startsWith('HTTP/1.1 431 Request Header Fields Too Large\r\n'));
  }
  // Client-side errors (status 0) fall back to 400.
  assert.ok(dec(errorResponse(new HandshakeError(0, 'X', 'x'))).startsWith('HTTP/1.1 400 '));
});

test.run();
