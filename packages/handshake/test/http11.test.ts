import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRequestHead, parseResponseHead } from '../src/index.js';
import { enc, head } from './_util.js';
import { throwsCode } from './_assert.js';

const req = (...lines: string[]) => parseRequestHead(enc(head(...lines)));
const res = (...lines: string[]) => parseResponseHead(enc(head(...lines)));

test('request: names case-insensitive, order and casing kept, OWS trimmed', () => {
  const r = req('GET /a?b=c HTTP/1.1', 'hOsT: example.com', 'X-Empty:', 'X-Tab:\t v \t', 'Accept: a', 'accept: b');
  assert.is(r.target, '/a?b=c');
  assert.is(r.headers.get('Host'), 'example.com');
  assert.is(r.headers.get('x-empty'), '');
  assert.is(r.headers.get('x-tab'), 'v');
  assert.is(r.headers.get('ACCEPT'), 'a, b');
  assert.equal(r.headers.getAll('accept'), ['a', 'b']);
  assert.is(r.headers.has('nope'), false);
  assert.is(r.headers.get('nope'), undefined);
  assert.equal(r.headers.getAll('nope'), []);
  assert.is(r.headers.size, 5);
  assert.equal(r.headers.entries()[0], ['hOsT', 'example.com']);
});

test('header names fold ASCII letters only: ^ and ~ (one case bit apart) stay different names; counts and entries by line', () => {
  const r = req('GET / HTTP/1.1', 'Host: h', 'X-^: caret', 'x-~: tilde', 'X-A: 1', 'x-a: 2', 'X-a: 3');
  assert.is(r.headers.get('x-^'), 'caret');
  assert.is(r.headers.get('X-~'), 'tilde');
  assert.is(r.headers.count('x-^'), 1);
  assert.is(r.headers.get('X-A'), '1, 2, 3');
  assert.is(r.headers.count('x-A'), 3);
  assert.is(r.headers.has('x-b'), false);
  assert.is(r.headers.get('x-'), undefined, 'a prefix of a name is not the name');
  assert.equal(r.headers.entries().slice(3), [['X-A', '1'], ['x-a', '2'], ['X-a', '3']]);
});

test('request: field values may contain HTAB, visible chars and obs-text', () => {
  const r = parseRequestHead(enc('GET / HTTP/1.1\r\nX-V: a\tb ~!\x80\xff\xe9\r\n\r\n'));
  assert.is(r.headers.get('x-v'), 'a\tb ~!\x80\xff\xe9');
});

test('request: HTTP/1.0 and other versions are parsed (validation rejects them)', () => {
  assert.is(req('GET / HTTP/1.0').version, '1.0');
  assert.is(req('GET / HTTP/2.0').version, '2.0');
});

test('request: origin-form may start with // (kept verbatim)', () => {
  assert.is(req('GET //x/y HTTP/1.1').target, '//x/y');
});

test('request: characters browsers leave unencoded are accepted', () => {
  const t = '/a|b^c/[d]/{e}?q=`"<>\\|{}[]%41';
  assert.is(req(`GET ${t} HTTP/1.1`).target, t);
});

test('request: absolute-form is accepted', () => {
  assert.is(req('GET ws://example.com:80/x?y HTTP/1.1').target, 'ws://example.com:80/x?y');
  assert.is(req('GET HTTPS://[::1]:8443 HTTP/1.1').target, 'HTTPS://[::1]:8443');
});

test('request: malformed request lines -> 400', () => {
  const cases: Array<[string, string]> = [
    ['', 'BAD_REQUEST_LINE'],
    ['GET', 'BAD_REQUEST_LINE'],
    ['GET /', 'BAD_REQUEST_LINE'],
    ['GET  / HTTP/1.1', 'BAD_REQUEST_LINE'],
    ['G(T / HTTP/1.1', 'BAD_REQUEST_LINE'],
    [' GET / HTTP/1.1', 'BAD_REQUEST_LINE'],
    ['GET / HTTP/1.1 ', 'BAD_REQUEST_LINE'],
    ['GET / http/1.1', 'BAD_REQUEST_LINE'],
    ['GET / HTTP/11', 'BAD_REQUEST_LINE'],
    ['GET / HTTP/1.x', 'BAD_REQUEST_LINE'],
    ['GET / HTTP/a.1', 'BAD_REQUEST_LINE'],
    ['GET / HTTX/1.1', 'BAD_REQUEST_LINE'],
    ['GET / HTTP-1.1', 'BAD_REQUEST_LINE'],
    ['GET / HTTP/1.10', 'BAD_REQUEST_LINE'],
    ['GET /a\x00b HTTP/1.1', 'BAD_TARGET'],
    ['GET /\x7f HTTP/1.1', 'BAD_TARGET'],
    ['GET /\xe9 HTTP/1.1', 'BAD_TARGET'],
  ];
  for (const [line, code] of cases) throwsCode(() => req(line, 'Host: a'), 400, code);
});

test('request: absurd request-targets -> 400 BAD_TARGET', () => {
  for (const t of [
    '*', 'example.com:443', 'a', '/a#frag', '/%zz', '/%4', '/a%', '/a%%41',
    'ftp://example.com/', 'http://', 'http:///x', 'http://user@host/', 'http://ho st/', 'http://h/a b', 'http://h/%g0', 'http://h\u00e9/',
  ]) {
    throwsCode(() => req(`GET ${t} HTTP/1.1`), 400, t.includes(' ') ? 'BAD_REQUEST_LINE' : 'BAD_TARGET');
  }
});

test('smuggling: obs-fold', () => {
  throwsCode(() => req('GET / HTTP/1.1', 'X-A: a', ' folded'), 400, 'OBS_FOLD');
  throwsCode(() => req('GET / HTTP/1.1', 'X-A: a', '\tfolded'), 400, 'OBS_FOLD');
  // Whitespace right after the start line is the same attack (RFC 9112 section 2.2).
  throwsCode(() => req('GET / HTTP/1.1', ' Host: a'), 400, 'OBS_FOLD');
});

test('smuggling: whitespace before the colon', () => {
  throwsCode(() => req('GET / HTTP/1.1', 'Host : a'), 400, 'WHITESPACE_BEFORE_COLON');
  throwsCode(() => req('GET / HTTP/1.1', 'Transfer-Encoding\t: chunked'), 400, 'WHITESPACE_BEFORE_COLON');
});

test('smuggling: non-token header names', () => {
  for (const line of ['X(A): b', ': b', 'X-A', 'X@A: b', 'X\x00A: b', '\xe9: b', '"Host": a', 'X/A: b']) {
    throwsCode(() => req('GET / HTTP/1.1', line), 400, 'BAD_HEADER_NAME');
  }
});

test('smuggling: NUL and other control characters in values', () => {
  for (const v of ['a\x00b', 'a\x01', '\x7f', 'a\x0bb', 'a\x1bb']) {
    throwsCode(() => req('GET / HTTP/1.1', `X-A: ${v}`), 400, 'BAD_HEADER_VALUE');
  }
});

test('smuggling: duplicate singleton headers', () => {
  for (const name of ['Host', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Content-Length', 'Origin']) {
    throwsCode(() => req('GET / HTTP/1.1', `${name}: a`, `${name.toUpperCase()}: a`), 400, 'DUPLICATE_HEADER');
  }
  throwsCode(() => res('HTTP/1.1 101 Switching Protocols', 'Sec-WebSocket-Accept: a', 'sec-websocket-accept: b'), 0, 'DUPLICATE_HEADER');
});

test('response: status line', () => {
  const r = res('HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket');
  assert.is(r.version, '1.1');
  assert.is(r.status, 101);
  assert.is(r.reason, 'Switching Protocols');
  assert.is(r.headers.get('upgrade'), 'websocket');
  assert.is(res('HTTP/1.1 404 ').reason, '');
  assert.is(res('HTTP/1.1 404').reason, '');
  assert.is(res('HTTP/1.1 200 O\tK \xe9').reason, 'O\tK \xe9');
});

test('response: malformed status lines -> status 0', () => {
  for (const line of ['', 'HTTP/1.1', 'HTTP/1.1 10', 'HTTP/1.1 1x1 OK', 'HTTP/1.1  101 OK', 'HTTP/1.1 099 X', 'HTTP/1.1 600 X',
    'HTTP/1.1 1011 OK', 'http/1.1 101 OK', 'HTTP/1.1 101 O\x00K', 'HTTP/1.1:101 OK']) {
    throwsCode(() => res(line), 0, 'BAD_STATUS_LINE');
  }
  throwsCode(() => res('HTTP/1.1 101 OK', 'A : b'), 0, 'WHITESPACE_BEFORE_COLON');
});

test.run();
