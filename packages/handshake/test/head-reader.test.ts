import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HeadReader,
  HandshakeError,
  parseRequestHead,
  parseResponseHead,
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_HEADER_COUNT,
} from '../src/index.js';
import { enc, dec, head, goodRequestLines } from './_util.js';

function throwsCode(fn: () => unknown, status: number, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, HandshakeError);
    const he = e as HandshakeError;
    assert.is(he.code, code, `code (message: ${he.message})`);
    assert.is(he.status, status, `status for ${code}`);
    return;
  }
  assert.unreachable(`expected HandshakeError ${code}`);
}

const REQ = head(...goodRequestLines());

test('defaults', () => {
  assert.is(DEFAULT_MAX_HEAD_SIZE, 16384);
  assert.is(DEFAULT_MAX_HEADER_COUNT, 100);
});

test('one chunk: head parsed, no rest', () => {
  const r = new HeadReader('request').push(enc(REQ));
  assert.ok(r);
  assert.is(r.head.method, 'GET');
  assert.is(r.head.target, '/chat');
  assert.is(r.head.version, '1.1');
  assert.is(r.head.headers.get('host'), 'server.example.com');
  assert.is(r.rest.length, 0);
});

test('one byte at a time: null until the last byte, then the head', () => {
  const bytes = enc(REQ + 'FRAME');
  const reader = new HeadReader('request');
  let result = null;
  let at = -1;
  for (let i = 0; i < bytes.length && !result; i++) {
    result = reader.push(bytes.subarray(i, i + 1));
    if (result) at = i;
  }
  assert.is(at, REQ.length - 1);
  assert.ok(result);
  assert.is(result.head.headers.get('sec-websocket-version'), '13');
  assert.is(result.rest.length, 0);
});

test('leftover bytes after the head are returned (every split point)', () => {
  const bytes = enc(REQ + '\x81\x05hello');
  for (let split = 1; split < bytes.length; split++) {
    const reader = new HeadReader('request');
    let r = reader.push(bytes.subarray(0, split));
    if (r === null) r = reader.push(bytes.subarray(split));
    assert.ok(r, `split ${split}`);
    // When the head completes in the first chunk, the rest is what remained of it.
    const rest = split >= REQ.length ? dec(bytes.subarray(REQ.length, split)) : '\x81\x05hello';
    assert.is(dec(r.rest), rest, `split ${split}`);
  }
});

test('chunks buffered by the reader are copied (caller may reuse its buffer)', () => {
  const bytes = enc(REQ);
  const buf = new Uint8Array(10);
  const reader = new HeadReader('request');
  let r = null;
  for (let i = 0; i < bytes.length && !r; i += 10) {
    const n = Math.min(10, bytes.length - i);
    buf.set(bytes.subarray(i, i + n));
    r = reader.push(buf.subarray(0, n));
    buf.fill(0x58);
  }
  assert.ok(r);
  assert.is(r.head.headers.get('sec-websocket-key'), 'dGhlIHNhbXBsZSBub25jZQ==');
});

test('empty chunks are fine', () => {
  const reader = new HeadReader('request');
  assert.is(reader.push(new Uint8Array(0)), null);
  assert.ok(reader.push(enc(REQ)));
});

test('push after completion is a programming error', () => {
  const reader = new HeadReader('request');
  reader.push(enc(REQ));
  assert.throws(() => reader.push(enc('x')), (e: unknown) => e instanceof Error && !(e instanceof HandshakeError));
});

test('after an error every push rethrows it', () => {
  const reader = new HeadReader('request');
  throwsCode(() => reader.push(enc('GET / HTTP/1.1\nHost: x\n\n')), 400, 'BARE_LF');
  throwsCode(() => reader.push(enc('\r\n')), 400, 'BARE_LF');
});

test('head larger than maxHeadSize: 431 detected at the crossing byte', () => {
  const reader = new HeadReader('request', { maxHeadSize: 64 });
  assert.is(reader.push(enc('GET / HTTP/1.1\r\nX-A: ' + 'a'.repeat(40))), null); // 61 bytes
  assert.is(reader.push(enc('aaa')), null); // 64: at the limit
  throwsCode(() => reader.push(enc('a\r\n\r\n')), 431, 'HEAD_TOO_LARGE');
});

test('head exactly at the limit passes, one byte more fails', () => {
  const s = REQ;
  assert.ok(new HeadReader('request', { maxHeadSize: s.length }).push(enc(s + 'rest')));
  throwsCode(() => new HeadReader('request', { maxHeadSize: s.length - 1 }).push(enc(s)), 431, 'HEAD_TOO_LARGE');
});

test('default limit: a 20 KiB header fails without waiting for the terminator', () => {
  const reader = new HeadReader('request');
  throwsCode(() => reader.push(enc('GET / HTTP/1.1\r\nX-Big: ' + 'b'.repeat(20000))), 431, 'HEAD_TOO_LARGE');
});

test('too many headers: 431 as soon as the count is exceeded', () => {
  const lines = ['GET / HTTP/1.1'];
  for (let i = 0; i < 5; i++) lines.push(`X-${i}: v`);
  assert.ok(new HeadReader('request', { maxHeaderCount: 5 }).push(enc(head(...lines))));
  lines.push('X-5: v');
  // Detected at the first byte of the sixth field line.
  const r5 = new HeadReader('request', { maxHeaderCount: 5 });
  assert.is(r5.push(enc(lines.slice(0, 6).join('\r\n') + '\r\n')), null);
  throwsCode(() => r5.push(enc('X')), 431, 'TOO_MANY_HEADERS');
  // Default 100.
  const many = ['GET / HTTP/1.1'];
  for (let i = 0; i < 101; i++) many.push(`X-${i}: v`);
  throwsCode(() => parseRequestHead(enc(head(...many))), 431, 'TOO_MANY_HEADERS');
});

test('response reader: errors carry status 0', () => {
  throwsCode(() => new HeadReader('response', { maxHeadSize: 10 }).push(enc('HTTP/1.1 101 Switching')), 0, 'HEAD_TOO_LARGE');
  throwsCode(() => parseResponseHead(enc('HTTP/1.1 101 OK\r\nA: b\rc\r\n\r\n')), 0, 'BARE_CR');
});

test('invalid limits are RangeErrors', () => {
  assert.throws(() => new HeadReader('request', { maxHeadSize: 0 }), RangeError);
  assert.throws(() => new HeadReader('request', { maxHeaderCount: 1.5 }), RangeError);
});

test('bare CR and bare LF rejected immediately', () => {
  throwsCode(() => new HeadReader('request').push(enc('GET / HTTP/1.1\rHost: x')), 400, 'BARE_CR');
  throwsCode(() => new HeadReader('request').push(enc('GET / HTTP/1.1\r\nHost: a\nb')), 400, 'BARE_LF');
  throwsCode(() => parseRequestHead(enc('GET / HTTP/1.1\r\nHost: a\r\n\n')), 400, 'BARE_LF');
  throwsCode(() => parseRequestHead(enc('GET / HTTP/1.1\r\nX: a\r\r\n\r\n')), 400, 'BARE_CR');
});

test('parseRequestHead: incomplete and trailing bytes', () => {
  throwsCode(() => parseRequestHead(enc('GET / HTTP/1.1\r\nHost: a\r\n')), 400, 'INCOMPLETE_HEAD');
  throwsCode(() => parseRequestHead(enc(REQ + 'x')), 400, 'TRAILING_BYTES');
  throwsCode(() => parseResponseHead(enc('HTTP/1.1 101 OK\r\n')), 0, 'INCOMPLETE_HEAD');
});

test.run();
