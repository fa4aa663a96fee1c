// Autobahn TestSuite group 7 (close handling), from RFC 6455 5.5.1 and 7.4: a close payload is empty (delivered as
// 1005) or a valid code plus a UTF-8 reason; one byte, reserved or out-of-range codes fail with 1002, a bad reason
// with 1007; nothing after a close frame is processed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeClosePayload, encodeClosePayload, isValidCloseCode, CodecError } from '../src/index.js';
import { cframe, expectFailure, expectMessages, frame, hex } from './_helpers.js';

function closeFrame(code: number | null, reason: Uint8Array | string = '') {
  const r = typeof reason === 'string' ? new TextEncoder().encode(reason) : reason;
  if (code === null) return cframe({ opcode: 8, payload: r });
  const p = new Uint8Array(2 + r.length);
  p[0] = code >> 8;
  p[1] = code & 0xff;
  p.set(r, 2);
  return cframe({ opcode: 8, payload: p });
}

test('7.1.1 text message, then close: both delivered', async () => {
  await expectMessages([cframe({ opcode: 1, payload: 'Hello World!' }), closeFrame(1000)], [
    { type: 'text', data: 'Hello World!' },
    { type: 'close', code: 1000, reason: '' },
  ]);
});

test('7.1.2/7.1.3 frames after a close frame are ignored (even invalid ones)', async () => {
  await expectMessages([closeFrame(1000), cframe({ opcode: 1, payload: 'after close' }), cframe({ opcode: 9 })], [
    { type: 'close', code: 1000, reason: '' },
  ]);
  await expectMessages([closeFrame(1000), Uint8Array.of(0xff, 0xff, 0xff)], [{ type: 'close', code: 1000, reason: '' }]);
});

test('7.1.5 fragmented text interrupted by close: close delivered, message dropped', async () => {
  await expectMessages([cframe({ opcode: 1, fin: false, payload: 'fragment1' }), closeFrame(1000), cframe({ opcode: 0, payload: 'fragment2' })], [
    { type: 'close', code: 1000, reason: '' },
  ]);
});

test('7.3.1 close with empty payload -> code 1005 delivered', async () => {
  await expectMessages(closeFrame(null), [{ type: 'close', code: 1005, reason: '' }]);
});

test('7.3.2 close with a one-byte payload -> 1002', async () => {
  const e = await expectFailure(cframe({ opcode: 8, payload: Uint8Array.of(0x03) }), 1002);
  assert.is(e.code, 'CLOSE_PAYLOAD_TOO_SHORT');
});

test('7.3.3 close with code 1000 and no reason', async () => {
  await expectMessages(closeFrame(1000), [{ type: 'close', code: 1000, reason: '' }]);
});

test('7.3.4 close with code and reason', async () => {
  await expectMessages(closeFrame(1000, 'Ok, bye.'), [{ type: 'close', code: 1000, reason: 'Ok, bye.' }]);
});

test('7.3.5 close with code and a 123-byte multi-byte reason (125-byte payload)', async () => {
  const reason = '\u00e9'.repeat(61) + 'x'; // 61 * 2 + 1 = 123 bytes
  await expectMessages(closeFrame(1000, reason), [{ type: 'close', code: 1000, reason }]);
});

test('7.3.6 close with a 124-byte reason (126-byte payload) -> 1002', async () => {
  await expectFailure(closeFrame(1000, 'x'.repeat(124)), 1002);
});

test('7.5.1 close with an invalid UTF-8 reason -> 1007', async () => {
  const e = await expectFailure(closeFrame(1000, hex('cebae1bdb9cf83cebcceb5eda080656469746564')), 1007);
  assert.is(e.code, 'INVALID_UTF8');
});

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

for (const code of VALID_CODES) {
  test(`7.7 valid close code ${code} delivered`, async () => {
    await expectMessages(closeFrame(code, 'r'), [{ type: 'close', code, reason: 'r' }]);
  });
}

for (const code of INVALID_CODES) {
  test(`7.9 invalid close code ${code} -> 1002`, async () => {
    const e = await expectFailure(closeFrame(code), 1002);
    assert.is(e.code, 'INVALID_CLOSE_CODE');
  });
}

test('a fragmented close frame -> 1002', async () => {
  await expectFailure(cframe({ opcode: 8, fin: false, payload: Uint8Array.of(3, 0xe8) }), 1002);
});

test('a client receives an unmasked close', async () => {
  await expectMessages(frame({ opcode: 8, payload: Uint8Array.of(0x03, 0xe9) }), [{ type: 'close', code: 1001, reason: '' }], { role: 'client' });
});

test('isValidCloseCode matches the wire ranges', () => {
  for (const c of VALID_CODES) assert.ok(isValidCloseCode(c), String(c));
  for (const c of INVALID_CODES) assert.not.ok(isValidCloseCode(c), String(c));
  assert.not.ok(isValidCloseCode(1000.5));
});

test('encodeClosePayload: empty, code, code + reason; refuses bad codes and long reasons', () => {
  assert.equal(Array.from(encodeClosePayload()), []);
  assert.equal(Array.from(encodeClosePayload(1000)), [0x03, 0xe8]);
  assert.equal(Array.from(encodeClosePayload(4000, 'hé')), [0x0f, 0xa0, 0x68, 0xc3, 0xa9]);
  assert.throws(() => encodeClosePayload(1005), RangeError);
  assert.throws(() => encodeClosePayload(1006), RangeError);
  assert.throws(() => encodeClosePayload(999), RangeError);
  assert.throws(() => encodeClosePayload(undefined, 'reason'), RangeError);
  assert.throws(() => encodeClosePayload(1000, 'x'.repeat(124)), RangeError);
  assert.equal(encodeClosePayload(1000, 'x'.repeat(123)).length, 125);
});

test('decodeClosePayload round trip and errors', () => {
  assert.equal(decodeClosePayload(encodeClosePayload(3001, 'why')), { code: 3001, reason: 'why' });
  assert.equal(decodeClosePayload(new Uint8Array(0)), { code: 1005, reason: '' });
  assert.throws(() => decodeClosePayload(Uint8Array.of(3)), (e: unknown) => e instanceof CodecError && e.closeCode === 1002);
  assert.throws(() => decodeClosePayload(Uint8Array.of(3, 0xe8, 0xff)), (e: unknown) => e instanceof CodecError && e.closeCode === 1007);
});

test.run();
