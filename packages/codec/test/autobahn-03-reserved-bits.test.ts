// Autobahn TestSuite group 3 (reserved bits), from RFC 6455 5.2: "MUST be 0 unless an extension is negotiated that
// defines meanings for non-zero values". Only permessage-deflate is implemented, and it owns RSV1 on the first
// frame of a data message only (RFC 7692 6).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cframe, expectFailure } from './_helpers.js';

const te = new TextEncoder();
const deflate = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

test('3.1 text with RSV = 1 -> 1002', async () => {
  const e = await expectFailure(cframe({ opcode: 1, rsv: 1, payload: 'Hello, world!' }), 1002);
  assert.is(e.code, 'RESERVED_BITS');
});

test('3.2 text, then text with RSV = 2, then ping: first delivered, then 1002', async () => {
  await expectFailure(
    [cframe({ opcode: 1, payload: 'Hello, world!' }), cframe({ opcode: 1, rsv: 2, payload: 'Hello, world!' }), cframe({ opcode: 9 })],
    1002,
    [{ type: 'text', data: 'Hello, world!' }],
  );
});

test('3.3 text, text with RSV = 3, ping, all in one chunk: first delivered, then 1002', async () => {
  const wire = new Uint8Array([
    ...cframe({ opcode: 1, payload: 'Hello, world!' }),
    ...cframe({ opcode: 1, rsv: 3, payload: 'Hello, world!' }),
    ...cframe({ opcode: 9 }),
  ]);
  await expectFailure(wire, 1002, [{ type: 'text', data: 'Hello, world!' }]);
});

test('3.4 text, text with RSV = 4 (RSV1) without deflate, ping -> 1002 after the first', async () => {
  await expectFailure(
    [cframe({ opcode: 1, payload: 'Hello, world!' }), cframe({ opcode: 1, rsv: 4, payload: 'Hello, world!' }), cframe({ opcode: 9 })],
    1002,
    [{ type: 'text', data: 'Hello, world!' }],
  );
});

test('3.5 binary with RSV = 5 -> 1002', async () => {
  await expectFailure(cframe({ opcode: 2, rsv: 5, payload: Uint8Array.of(0, 0xff, 0xfe) }), 1002);
});

test('3.6 ping with RSV = 6 -> 1002', async () => {
  await expectFailure(cframe({ opcode: 9, rsv: 6, payload: 'Hello, world!' }), 1002);
});

test('3.7 close with RSV = 7 -> 1002', async () => {
  await expectFailure(cframe({ opcode: 8, rsv: 7 }), 1002);
});

for (let rsv = 1; rsv <= 7; rsv++) {
  for (const opcode of [0, 1, 2, 8, 9, 10]) {
    test(`RSV ${rsv} on opcode ${opcode} without extensions -> 1002`, async () => {
      const first = opcode === 0 ? [cframe({ opcode: 1, fin: false, payload: 'a' })] : [];
      await expectFailure([...first, cframe({ opcode, rsv, payload: opcode === 8 ? new Uint8Array(0) : te.encode('x') })], 1002);
    });
  }
}

test('with deflate negotiated: RSV1 on a continuation frame -> 1002', async () => {
  await expectFailure([cframe({ opcode: 2, fin: false, payload: 'a' }), cframe({ opcode: 0, rsv: 4, payload: 'b' })], 1002, [], { deflate });
});

test('with deflate negotiated: RSV1 on ping/pong/close -> 1002', async () => {
  for (const opcode of [8, 9, 10]) await expectFailure(cframe({ opcode, rsv: 4 }), 1002, [], { deflate });
});

test('with deflate negotiated: RSV2 and RSV3 still -> 1002', async () => {
  await expectFailure(cframe({ opcode: 1, rsv: 2, payload: 'x' }), 1002, [], { deflate });
  await expectFailure(cframe({ opcode: 1, rsv: 1, payload: 'x' }), 1002, [], { deflate });
  await expectFailure(cframe({ opcode: 1, rsv: 6, payload: 'x' }), 1002, [], { deflate });
});

test.run();
