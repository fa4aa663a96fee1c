// Autobahn TestSuite group 4 (opcodes), from RFC 6455 5.2: opcodes 3-7 (reserved non-control) and 0xB-0xF
// (reserved control) fail the connection with 1002, also after valid traffic and also with a payload.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cframe, expectFailure, frame } from './_helpers.js';

const hello = { type: 'text' as const, data: 'Hello, world!' };

for (const opcode of [3, 4, 5, 6, 7]) {
  test(`4.1 reserved non-control opcode ${opcode} -> 1002`, async () => {
    const e = await expectFailure(cframe({ opcode }), 1002);
    assert.is(e.code, 'RESERVED_OPCODE');
  });
  test(`4.1 reserved non-control opcode ${opcode} with payload, after a text message -> 1002`, async () => {
    await expectFailure([cframe({ opcode: 1, payload: 'Hello, world!' }), cframe({ opcode, payload: 'reserved' }), cframe({ opcode: 9 })], 1002, [
      hello,
    ]);
  });
}

for (const opcode of [11, 12, 13, 14, 15]) {
  test(`4.2 reserved control opcode ${opcode} -> 1002`, async () => {
    await expectFailure(cframe({ opcode }), 1002);
  });
  test(`4.2 reserved control opcode ${opcode} with payload, after a text message -> 1002`, async () => {
    await expectFailure([cframe({ opcode: 1, payload: 'Hello, world!' }), cframe({ opcode, payload: 'reserved' }), cframe({ opcode: 9 })], 1002, [
      hello,
    ]);
  });
}

test('reserved opcode received by a client -> 1002', async () => {
  await expectFailure(frame({ opcode: 6 }), 1002, [], { role: 'client' });
});

test('reserved opcode inside a fragmented message -> 1002', async () => {
  await expectFailure([cframe({ opcode: 1, fin: false, payload: 'a' }), cframe({ opcode: 3, payload: 'b' })], 1002);
});

test.run();
