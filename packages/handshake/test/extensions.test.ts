import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseExtensions, serializeExtensions, parseProtocols, isToken, isFieldValue, hasToken, splitList } from '../src/index.js';
import { throwsCode } from './_assert.js';

test('parseExtensions: RFC 7692 style values', () => {
  assert.equal(parseExtensions('permessage-deflate; client_max_window_bits'), [
    { name: 'permessage-deflate', params: { client_max_window_bits: true } },
  ]);
  assert.equal(
    parseExtensions('permessage-deflate;client_max_window_bits=10;server_no_context_takeover , permessage-deflate'),
    [
      { name: 'permessage-deflate', params: { client_max_window_bits: '10', server_no_context_takeover: true } },
      { name: 'permessage-deflate', params: {} },
    ],
  );
});

test('parseExtensions: quoted-string values unescape to tokens; BWS around "=" tolerated', () => {
  assert.equal(parseExtensions('foo; a="10"; b="x\\y"; c = 7'), [{ name: 'foo', params: { a: '10', b: 'xy', c: '7' } }]);
});

test('parseExtensions: empty list elements ignored, empty value gives []', () => {
  assert.equal(parseExtensions(''), []);
  assert.equal(parseExtensions(' , ,a, ,b ,'), [
    { name: 'a', params: {} },
    { name: 'b', params: {} },
  ]);
});

test('parseExtensions: "__proto__" is an ordinary own parameter', () => {
  const [item] = parseExtensions('x; __proto__=1');
  assert.ok(item);
  assert.ok(Object.prototype.hasOwnProperty.call(item.params, '__proto__'));
  assert.is(Object.getPrototypeOf(item.params), Object.prototype);
  assert.equal(Object.keys(item.params), ['__proto__']);
});

test("parseExtensions: duplicateParams 'drop' leaves out just the offer with a repeated parameter", () => {
  assert.equal(parseExtensions('a; b; b, a; c=1, d', { duplicateParams: 'drop' }), [
    { name: 'a', params: { c: '1' } },
    { name: 'd', params: {} },
  ]);
  // Syntax errors still fail in that mode, and the default still fails on repeats.
  throwsCode(() => parseExtensions('a; b; b, a b', { duplicateParams: 'drop' }), 400, 'BAD_EXTENSIONS');
  throwsCode(() => parseExtensions('a; b=1; b=2'), 400, 'BAD_EXTENSIONS');
});

test('parseExtensions: syntax errors -> 400 BAD_EXTENSIONS', () => {
  for (const bad of [
    ';a', 'a;', 'a; =1', 'a; b=', 'a; b="c d"', 'a; b=""', 'a; b="c', 'a; b="\\', 'a; b="c\x00"', 'a; b="\\\x01"',
    'a b', 'a; b c', 'a; b=c d', 'a; b; b', 'a; b=1; b=2', '"a"', 'a/b', 'a; b=c=d', 'a; b=\u20ac', 'a\u20ac',
  ]) {
    throwsCode(() => parseExtensions(bad), 400, 'BAD_EXTENSIONS');
  }
});

test('serializeExtensions', () => {
  assert.is(serializeExtensions([]), '');
  assert.is(
    serializeExtensions([
      { name: 'permessage-deflate', params: { client_max_window_bits: true, server_max_window_bits: '10' } },
      { name: 'x', params: {} },
    ]),
    'permessage-deflate; client_max_window_bits; server_max_window_bits=10, x',
  );
  assert.throws(() => serializeExtensions([{ name: 'a b', params: {} }]), TypeError);
  assert.throws(() => serializeExtensions([{ name: 'a', params: { 'b c': true } }]), TypeError);
  assert.throws(() => serializeExtensions([{ name: 'a', params: { b: 'c\r\nX: y' } }]), TypeError);
  assert.throws(() => serializeExtensions([{ name: 'a', params: { b: '' } }]), TypeError);
  assert.throws(() => serializeExtensions([{ name: 'a', params: { b: false as unknown as true } }]), TypeError);
});

test('parseProtocols', () => {
  assert.equal(parseProtocols('chat, superchat'), ['chat', 'superchat']);
  assert.equal(parseProtocols('  mqtt  '), ['mqtt']);
  assert.equal(parseProtocols(' , a,,b'), ['a', 'b']);
  assert.equal(parseProtocols(''), []);
  assert.equal(parseProtocols('Chat, chat'), ['Chat', 'chat']); // case-sensitive names
  throwsCode(() => parseProtocols('a, a'), 400, 'DUPLICATE_PROTOCOL');
  for (const bad of ['a b', 'a;b', '"a"', 'a/1', 'a=b', '\u00e9']) throwsCode(() => parseProtocols(bad), 400, 'BAD_PROTOCOL');
});

test('token helpers', () => {
  assert.ok(isToken("!#$%&'*+-.^_`|~09azAZ"));
  for (const t of ['', 'a b', 'a:', '(', '\u00e9', '\u0100']) assert.not.ok(isToken(t), t);
  assert.ok(isFieldValue(''));
  assert.ok(isFieldValue('a b\tc\xff'));
  for (const v of ['a\r', 'a\n', '\x00', ' a', 'a ', '\ta', 'a\t', '\x7f', '\u0100']) assert.not.ok(isFieldValue(v), JSON.stringify(v));
  assert.equal(splitList(' a ,\tb\t,, c'), ['a', 'b', 'c']);
  assert.ok(hasToken('keep-alive, Upgrade', 'upgrade'));
  assert.not.ok(hasToken(undefined, 'upgrade'));
  assert.not.ok(hasToken('upgrades', 'upgrade'));
});

test.run();
