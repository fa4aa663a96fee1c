import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha1, base64Encode, base64Decode, computeAccept, WEBSOCKET_GUID } from '../src/index.js';
import { enc, hex } from './_util.js';

test('sha1: FIPS / RFC 3174 vectors', () => {
  assert.is(hex(sha1(enc(''))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  assert.is(hex(sha1(enc('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  // 56 bytes: the length no longer fits in the first block -> two final blocks.
  assert.is(hex(sha1(enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  assert.is(
    hex(sha1(enc('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'))),
    'a49b2446a02c645bf419f995b67091253a04a259',
  );
  assert.is(hex(sha1(enc('The quick brown fox jumps over the lazy dog'))), '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12');
});

test('sha1: one million "a" (many blocks)', () => {
  assert.is(hex(sha1(new Uint8Array(1_000_000).fill(0x61))), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
});

test('sha1: block-boundary lengths 55/56/63/64/65 are consistent with splitting', () => {
  // Known digests of 'a' repeated n times.
  const known: Record<number, string> = {
    55: 'c1c8bbdc22796e28c0e15163d20899b65621d65a',
    56: 'c2db330f6083854c99d4b5bfb6e8f29f201be699',
    63: '03f09f5b158a7a8cdad920bddc29b81c18a551f5',
    64: '0098ba824b5c16427bd7a1122a5a442a25ec644d',
    65: '11655326c708d70319be2610e8a57d9a5b959d3b',
  };
  for (const [n, digest] of Object.entries(known)) {
    assert.is(hex(sha1(new Uint8Array(Number(n)).fill(0x61))), digest, `length ${n}`);
  }
});

test('sha1: input is not modified and subarrays work', () => {
  const buf = enc('xxabcxx');
  assert.is(hex(sha1(buf.subarray(2, 5))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.is(buf[2], 0x61);
});

test('base64: RFC 4648 vectors both ways', () => {
  const v: Array<[string, string]> = [
    ['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, b64] of v) {
    assert.is(base64Encode(enc(plain)), b64);
    assert.equal(base64Decode(b64), enc(plain));
  }
  assert.is(base64Encode(new Uint8Array([0xfb, 0xff, 0xbf])), '+/+/');
});

test('base64: strict decoding rejects deviations', () => {
  for (const bad of ['Zg', 'Zg=', 'Z===', 'Zh==', 'Zm9=', 'Zm-v', 'Zm9v\n', ' Zm9v', 'Zm9vYg=a', 'Zg==Zg==', 'Zm\u0100v', '====']) {
    assert.is(base64Decode(bad), null, JSON.stringify(bad));
  }
});

test('computeAccept: RFC 6455 and second vector', () => {
  assert.is(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  assert.is(computeAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  assert.is(computeAccept('OfMWmQZlMFBWe/o7k1CzZg=='), 'PqfV+Vb3mDtpMlZ/bO+GBzyX4N8=');
});

test.run();
