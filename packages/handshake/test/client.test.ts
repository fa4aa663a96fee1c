import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildClientRequest,
  validateResponse,
  parseRequestHead,
  parseResponseHead,
  validateRequest,
  buildAcceptResponse,
  base64Decode,
  HandshakeError,
  type ClientRequest,
  type ExtensionNegotiator,
  type ExtensionParams,
} from '../src/index.js';
import { enc, dec, head, GOOD_KEY, GOOD_ACCEPT } from './_util.js';
import { throwsCode } from './_assert.js';

test('request for a ws: URL: exact bytes with a fixed key', () => {
  const r = buildClientRequest('ws://example.com/chat?room=1', { key: GOOD_KEY });
  assert.is(
    dec(r.bytes),
    'GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${GOOD_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  assert.is(r.secure, false);
  assert.is(r.hostname, 'example.com');
  assert.is(r.port, 80);
  assert.is(r.path, '/chat?room=1');
  assert.is(r.expectedAccept, GOOD_ACCEPT);
  assert.is(r.url.href, 'ws://example.com/chat?room=1');
});

test('fresh random 16-byte key per request', () => {
  const a = buildClientRequest('ws://h/');
  const b = buildClientRequest('ws://h/');
  assert.is(base64Decode(a.key)?.length, 16);
  assert.is.not(a.key, b.key);
});

test('Host: default ports omitted, others kept, IPv6 bracketed', () => {
  const host = (u: string) => parseRequestHead(buildClientRequest(u).bytes).headers.get('host');
  assert.is(host('ws://h:80/'), 'h');
  assert.is(host('wss://h:443/'), 'h');
  assert.is(host('ws://h:443/'), 'h:443');
  assert.is(host('wss://h:8443/'), 'h:8443');
  assert.is(host('ws://[::1]:9000/'), '[::1]:9000');
  assert.is(host('wss://[::1]/'), '[::1]');
  const r = buildClientRequest('wss://[2001:db8::1]:8443/x');
  assert.is(r.hostname, '2001:db8::1');
  assert.is(r.port, 8443);
  assert.is(r.secure, true);
  assert.is(buildClientRequest('wss://h/').port, 443);
});

test('http:/https: map to ws:/wss: like browsers; path defaults to /', () => {
  const a = buildClientRequest('http://h:8080');
  assert.is(a.url.protocol, 'ws:');
  assert.is(a.path, '/');
  assert.is(a.port, 8080);
  const b = buildClientRequest(new URL('https://h?q'));
  assert.is(b.url.protocol, 'wss:');
  assert.is(b.secure, true);
  assert.is(b.path, '/?q');
  assert.is(parseRequestHead(b.bytes).headers.get('host'), 'h');
});

test('bad URLs are SyntaxErrors: other schemes, fragments, unparseable', () => {
  for (const u of ['ftp://h/', 'file:///x', 'ws://h/#', 'ws://h/#frag', 'not a url', 'ws://', 'javascript:alert(1)', 'ws://h/%zz', 'ws://h/?a=%']) {
    assert.throws(() => buildClientRequest(u), SyntaxError, u);
  }
});

test('path characters the URL parser leaves alone are sent as they are', () => {
  // Engines differ in what their URL serializer escapes (Chromium escapes '|' in paths, Node does
  // not), so check the round trip rather than one engine's spelling.
  const r = buildClientRequest('ws://h/a|b/{c}/ d?x=[1]&y=^|\'');
  assert.is(r.path, r.url.pathname + r.url.search);
  assert.ok(r.path.includes('%20d?x=[1]&y=^|'));
  assert.is(parseRequestHead(r.bytes).target, r.path);
});

test('credentials in the URL are not sent', () => {
  const s = dec(buildClientRequest('ws://user:pw@h/').bytes);
  assert.not.ok(s.includes('user'));
  assert.not.ok(s.includes('Authorization'));
});

test('origin, protocols, extension offers and extra headers', () => {
  const neg: ExtensionNegotiator<string> = {
    name: 'permessage-deflate',
    offer: () => [{ client_max_window_bits: true }, {}],
    negotiate: () => null,
    confirm: () => 'ok',
  };
  const silent: ExtensionNegotiator = { name: 'x-none', offer: () => [], negotiate: () => null, confirm: () => null };
  const r = buildClientRequest('ws://h/', {
    key: GOOD_KEY,
    origin: 'https://app.example',
    protocols: ['chat', 'superchat'],
    extensions: [silent, neg],
    headers: { 'User-Agent': 'streamsocket', Cookie: 'a=b' },
  });
  assert.is(
    dec(r.bytes),
    'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${GOOD_KEY}\r\nSec-WebSocket-Version: 13\r\nOrigin: https://app.example\r\n` +
      'Sec-WebSocket-Protocol: chat, superchat\r\n' +
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate\r\n' +
      'User-Agent: streamsocket\r\nCookie: a=b\r\n\r\n',
  );
  assert.equal(r.protocols, ['chat', 'superchat']);
  assert.equal(r.extensions, [neg]);
  const r2 = buildClientRequest('ws://h/', { headers: [['X-A', '1'], ['X-A', '2']] });
  assert.equal(parseRequestHead(r2.bytes).headers.getAll('x-a'), ['1', '2']);
});

test('header injection and bad inputs are rejected before building', () => {
  const bad: Array<[Parameters<typeof buildClientRequest>[1], ErrorConstructor | SyntaxErrorConstructor]> = [
    [{ headers: { 'X-A': 'a\r\nHost: evil' } }, TypeError],
    [{ headers: { 'X-A': 'a\nb' } }, TypeError],
    [{ headers: { 'X-A': 'a\rb' } }, TypeError],
    [{ headers: { 'X-A': 'a\x00' } }, TypeError],
    [{ headers: { 'X A': 'a' } }, TypeError],
    [{ headers: { 'X-A\r\n': 'a' } }, TypeError],
    [{ headers: [['', 'a']] }, TypeError],
    [{ headers: { Host: 'evil' } }, TypeError],
    [{ headers: { 'sec-websocket-key': GOOD_KEY } }, TypeError],
    [{ headers: { 'Transfer-Encoding': 'chunked' } }, TypeError],
    [{ origin: 'https://a\r\nX: y' }, TypeError],
    [{ key: 'short' }, TypeError],
    [{ protocols: ['a b'] }, SyntaxError],
    [{ protocols: ['a\r\nX: y'] }, SyntaxError],
    [{ protocols: [''] }, SyntaxError],
    [{ protocols: ['a', 'a'] }, SyntaxError],
  ];
  for (const [opts, type] of bad) assert.throws(() => buildClientRequest('ws://h/', opts), type as ErrorConstructor, JSON.stringify(opts));
});

// ---- response validation -------------------------------------------------------------------------------

function respond(req: ClientRequest, lines: string[]) {
  return validateResponse(req, parseResponseHead(enc(head(...lines))));
}
const okLines = (accept = GOOD_ACCEPT) => [
  'HTTP/1.1 101 Switching Protocols',
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Accept: ${accept}`,
];

test('validateResponse: accepted', () => {
  const req = buildClientRequest('ws://h/', { key: GOOD_KEY });
  const r = respond(req, okLines());
  assert.equal(r, { protocol: '', extensions: '', agreements: new Map() });
  // Case-insensitive tokens in lists.
  assert.ok(respond(req, ['HTTP/1.1 101 OK', 'upgrade: WebSocket', 'connection: keep-alive, upgrade', `sec-websocket-accept: ${GOOD_ACCEPT}`, 'Content-Length: 0']));
});

test('validateResponse: precise error codes, status = received status', () => {
  const req = buildClientRequest('ws://h/', { key: GOOD_KEY, protocols: ['chat'] });
  const e = throwsCode(() => respond(req, ['HTTP/1.1 403 Forbidden', 'Content-Length: 0']), 403, 'UNEXPECTED_STATUS');
  assert.instance(e, HandshakeError);
  throwsCode(() => respond(req, ['HTTP/1.1 200 OK']), 200, 'UNEXPECTED_STATUS');
  throwsCode(() => respond(req, ['HTTP/1.0 101 OK', ...okLines().slice(1)]), 101, 'BAD_HTTP_VERSION');
  throwsCode(() => respond(req, okLines().filter((l) => !l.startsWith('Upgrade'))), 101, 'BAD_UPGRADE');
  throwsCode(() => respond(req, [...okLines().filter((l) => !l.startsWith('Upgrade')), 'Upgrade: h2c']), 101, 'BAD_UPGRADE');
  throwsCode(() => respond(req, okLines().filter((l) => !l.startsWith('Connection'))), 101, 'BAD_CONNECTION');
  throwsCode(() => respond(req, [...okLines(), 'Transfer-Encoding: chunked']), 101, 'BODY_NOT_ALLOWED');
  throwsCode(() => respond(req, [...okLines(), 'Content-Length: 3']), 101, 'BODY_NOT_ALLOWED');
  throwsCode(() => respond(req, okLines('s3pPLMBiTxaQ9kYGzzhZRbK+xOo')), 101, 'BAD_ACCEPT');
  throwsCode(() => respond(req, okLines().slice(0, 3)), 101, 'BAD_ACCEPT');
});

test('validateResponse: subprotocol rules', () => {
  const req = buildClientRequest('ws://h/', { key: GOOD_KEY, protocols: ['chat', 'mqtt'] });
  assert.is(respond(req, [...okLines(), 'Sec-WebSocket-Protocol: mqtt']).protocol, 'mqtt');
  assert.is(respond(req, okLines()).protocol, ''); // server may decline all
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Protocol: other']), 101, 'PROTOCOL_NOT_OFFERED');
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Protocol: chat, mqtt']), 101, 'BAD_PROTOCOL');
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Protocol: chat', 'Sec-WebSocket-Protocol: mqtt']), 101, 'BAD_PROTOCOL');
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Protocol: ']), 101, 'BAD_PROTOCOL');
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Protocol: a b']), 101, 'BAD_PROTOCOL');
  const none = buildClientRequest('ws://h/', { key: GOOD_KEY });
  throwsCode(() => respond(none, [...okLines(), 'Sec-WebSocket-Protocol: chat']), 101, 'PROTOCOL_NOT_OFFERED');
});

function neg(name: string): ExtensionNegotiator<ExtensionParams> {
  return {
    name,
    offer: () => [{}],
    negotiate: () => null,
    confirm(p) {
      if (p['bad'] !== undefined) throw new HandshakeError(400, 'BAD_EXTENSION_PARAMS', 'unacceptable');
      if (p['crash'] !== undefined) throw new RangeError('crash');
      return p;
    },
  };
}

test('validateResponse: extensions confirmed, unknown or repeated fail', () => {
  const req = buildClientRequest('ws://h/', { key: GOOD_KEY, extensions: [neg('permessage-deflate'), neg('x-b')] });
  const r = respond(req, [...okLines(), 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10', 'Sec-WebSocket-Extensions: X-B']);
  assert.is(r.extensions, 'permessage-deflate; server_max_window_bits=10, X-B');
  assert.equal(r.agreements.get('permessage-deflate'), { server_max_window_bits: '10' });
  assert.equal(r.agreements.get('x-b'), {});
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Extensions: x-c']), 101, 'EXTENSION_NOT_OFFERED');
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Extensions: x-b, x-b']), 101, 'EXTENSION_REPEATED');
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Extensions: x-b; a="b c"']), 101, 'BAD_EXTENSIONS');
  // A negotiator's HandshakeError keeps its code but gets the received status.
  throwsCode(() => respond(req, [...okLines(), 'Sec-WebSocket-Extensions: x-b; bad']), 101, 'BAD_EXTENSION_PARAMS');
  assert.throws(() => respond(req, [...okLines(), 'Sec-WebSocket-Extensions: x-b; crash']), RangeError);
  const none = buildClientRequest('ws://h/', { key: GOOD_KEY });
  throwsCode(() => respond(none, [...okLines(), 'Sec-WebSocket-Extensions: permessage-deflate']), 101, 'EXTENSION_NOT_OFFERED');
});

test('end to end: client request -> server -> client validation', () => {
  const req = buildClientRequest('wss://example.com:8443/chat?x=1', {
    origin: 'https://example.com',
    protocols: ['v2', 'v1'],
  });
  const v = validateRequest(parseRequestHead(req.bytes), { protocols: ['v1', 'v2'], origins: ['https://example.com'], path: '/chat' });
  if (!v.ok) throw v.error;
  assert.is(v.handshake.path, '/chat?x=1');
  const res = parseResponseHead(buildAcceptResponse(v.handshake));
  assert.equal(validateResponse(req, res), { protocol: 'v1', extensions: '', agreements: new Map() });
});

test.run();
