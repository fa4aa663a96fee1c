import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineSplitterStream, LineTooLongError, messageToLineBytes, messageToRawBytes, utf8Decoder, describeClose, describeError, isCleanClose } from '../src/index.js';

async function split(chunks: string[], max?: number): Promise<string[]> {
  const out: string[] = [];
  const src = new ReadableStream<string>({ start(c) { for (const x of chunks) c.enqueue(x); c.close(); } });
  await src.pipeThrough(new LineSplitterStream(max)).pipeTo(new WritableStream({ write(l) { out.push(l); } }));
  return out;
}

test('lines: split across chunks, CRLF and LF, last line without newline', async () => {
  assert.equal(await split(['a', 'b\nc', 'd\r', '\ne\n\nf']), ['ab', 'cd', 'e', '', 'f']);
  assert.equal(await split(['x\n']), ['x']);
  assert.equal(await split(['']), []);
  assert.equal(await split(['tail\r']), ['tail']);
});

test('lines: a line over the bound fails instead of growing', async () => {
  try {
    await split(['abc', 'def', 'g'], 5);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LineTooLongError);
  }
  assert.equal(await split(['abcde\n', 'fghij'], 5), ['abcde', 'fghij']);
});

test('utf8Decoder keeps a character split across chunks', async () => {
  const bytes = new TextEncoder().encode('é€😀\n');
  const src = new ReadableStream<Uint8Array>({ start(c) { for (const b of bytes) c.enqueue(new Uint8Array([b])); c.close(); } });
  let text = '';
  await src.pipeThrough(utf8Decoder()).pipeTo(new WritableStream({ write(s) { text += s; } }));
  assert.is(text, 'é€😀\n');
});

test('messages to bytes: text gets a newline, binary is kept as is', () => {
  const dec = (parts: Uint8Array[]): string => parts.map((p) => new TextDecoder().decode(p)).join('');
  assert.is(dec(messageToLineBytes('hi')), 'hi\n');
  assert.is(dec(messageToLineBytes(new Uint8Array([0x41, 0x42]))), 'AB\n');
  assert.equal([...messageToRawBytes('é')], [0xc3, 0xa9]);
  const bin = new Uint8Array([1, 2, 3]);
  assert.is(messageToRawBytes(bin), bin);
});

test('failure descriptions are one line and name the cause', () => {
  const url = new URL('ws://127.0.0.1:9/');
  const hs = Object.assign(new Error('unexpected status'), { name: 'HandshakeError', status: 403 });
  assert.match(describeError(hs, url), /^handshake refused by 127\.0\.0\.1:9: HTTP 403 Forbidden/);
  assert.match(describeError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), url), /connection refused by 127\.0\.0\.1:9/);
  assert.match(describeError(Object.assign(new Error('boom'), { closeCode: 1006, cause: Object.assign(new Error('r'), { code: 'ECONNRESET' }) }), url), /closed with code 1006/);
  assert.match(describeError(new Error('two\nlines')), /^two lines$/);
  assert.is(describeClose({ closeCode: 1011, reason: 'oops' }), 'connection closed with code 1011 (internal error): oops');
  assert.is(describeClose({ closeCode: 4001, reason: '' }), 'connection closed with code 4001 (application-defined)');
  assert.ok(isCleanClose({ closeCode: 1000, reason: '' }));
  assert.not.ok(isCleanClose({ closeCode: 1005, reason: '' }));
  assert.not.ok(isCleanClose({ closeCode: 1001, reason: '' }));
});

test.run();
