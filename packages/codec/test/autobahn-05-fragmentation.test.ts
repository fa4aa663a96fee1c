// Autobahn TestSuite group 5 (fragmentation), from RFC 6455 5.4: control frames must not be fragmented, may be
// injected between the fragments of a data message; a continuation needs a started message and a new data frame
// needs the previous message finished (1002 otherwise).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cframe, expectFailure, expectMessages } from './_helpers.js';

const te = new TextEncoder();
const ping = (s: string) => ({ type: 'ping' as const, data: te.encode(s) });
const pong = (s: string) => ({ type: 'pong' as const, data: te.encode(s) });

test('5.1 ping in 2 fragments -> 1002', async () => {
  const e = await expectFailure([cframe({ opcode: 9, fin: false, payload: 'frag1' }), cframe({ opcode: 0, payload: 'frag2' })], 1002);
  assert.is(e.code, 'FRAGMENTED_CONTROL');
});

test('5.2 pong in 2 fragments -> 1002', async () => {
  await expectFailure([cframe({ opcode: 10, fin: false, payload: 'frag1' }), cframe({ opcode: 0, payload: 'frag2' })], 1002);
});

test('5.3 text message in 2 fragments', async () => {
  await expectMessages([cframe({ opcode: 1, fin: false, payload: 'frag1' }), cframe({ opcode: 0, payload: 'frag2' })], [
    { type: 'text', data: 'frag1frag2' },
  ]);
});

test('5.5 text message in 2 fragments, sent one byte at a time', async () => {
  const wire = [...cframe({ opcode: 1, fin: false, payload: 'frag1' }), ...cframe({ opcode: 0, payload: 'frag2' })];
  await expectMessages(wire.map((b) => Uint8Array.of(b)), [{ type: 'text', data: 'frag1frag2' }]);
});

test('5.6 text in 2 fragments with a ping in between: ping first, then the text', async () => {
  await expectMessages(
    [cframe({ opcode: 1, fin: false, payload: 'frag1' }), cframe({ opcode: 9, payload: 'ping payload' }), cframe({ opcode: 0, payload: 'frag2' })],
    [ping('ping payload'), { type: 'text', data: 'frag1frag2' }],
  );
});

test('5.8 text in 2 fragments with a pong in between, one byte at a time', async () => {
  const wire = [
    ...cframe({ opcode: 1, fin: false, payload: 'frag1' }),
    ...cframe({ opcode: 10, payload: 'pong payload' }),
    ...cframe({ opcode: 0, payload: 'frag2' }),
  ];
  await expectMessages(wire.map((b) => Uint8Array.of(b)), [pong('pong payload'), { type: 'text', data: 'frag1frag2' }]);
});

test('5.9 continuation with FIN=1 and nothing to continue, then text -> 1002', async () => {
  const e = await expectFailure(
    [cframe({ opcode: 0, payload: 'non-continuation payload' }), cframe({ opcode: 1, payload: 'Hello, world!' })],
    1002,
  );
  assert.is(e.code, 'UNEXPECTED_CONTINUATION');
});

test('5.12 continuation with FIN=0 and nothing to continue -> 1002', async () => {
  await expectFailure([cframe({ opcode: 0, fin: false, payload: 'non-continuation payload' })], 1002);
});

test('5.15 text fragments 1+2, then continuation FIN=1, then another continuation -> 1002 after the message', async () => {
  await expectFailure(
    [
      cframe({ opcode: 1, fin: false, payload: 'fragment1' }),
      cframe({ opcode: 0, fin: false, payload: 'fragment2' }),
      cframe({ opcode: 0, payload: 'fragment3' }),
      cframe({ opcode: 0, fin: false, payload: 'fragment4' }),
    ],
    1002,
    [{ type: 'text', data: 'fragment1fragment2fragment3' }],
  );
});

test('5.17 new text frame while a message is in progress -> 1002', async () => {
  const e = await expectFailure([cframe({ opcode: 1, fin: false, payload: 'fragment1' }), cframe({ opcode: 1, payload: 'fragment2' })], 1002);
  assert.is(e.code, 'EXPECTED_CONTINUATION');
});

test('5.18 new binary frame while a text message is in progress -> 1002', async () => {
  await expectFailure([cframe({ opcode: 1, fin: false, payload: 'fragment1' }), cframe({ opcode: 2, fin: false, payload: 'x' })], 1002);
});

test('5.19 text in 5 fragments with pings after 1st and 4th (ping delivered when it arrives)', async () => {
  await expectMessages(
    [
      cframe({ opcode: 1, fin: false, payload: 'fragment1' }),
      cframe({ opcode: 9, payload: 'pongme 1!' }),
      cframe({ opcode: 0, fin: false, payload: 'fragment2' }),
      cframe({ opcode: 0, fin: false, payload: 'fragment3' }),
      cframe({ opcode: 0, fin: false, payload: 'fragment4' }),
      cframe({ opcode: 9, payload: 'pongme 2!' }),
      cframe({ opcode: 0, payload: 'fragment5' }),
    ],
    [ping('pongme 1!'), ping('pongme 2!'), { type: 'text', data: 'fragment1fragment2fragment3fragment4fragment5' }],
  );
});

test('fragments with empty payloads, including an empty first and last fragment', async () => {
  await expectMessages(
    [cframe({ opcode: 2, fin: false }), cframe({ opcode: 0, fin: false, payload: 'ab' }), cframe({ opcode: 0, fin: false }), cframe({ opcode: 0 })],
    [{ type: 'binary', data: te.encode('ab') }],
  );
  await expectMessages([cframe({ opcode: 1, fin: false }), cframe({ opcode: 0 })], [{ type: 'text', data: '' }]);
});

test('a close frame between fragments is delivered (and ends decoding)', async () => {
  await expectMessages(
    [cframe({ opcode: 1, fin: false, payload: 'a' }), cframe({ opcode: 8, payload: Uint8Array.of(0x03, 0xe8) }), cframe({ opcode: 0, payload: 'b' })],
    [{ type: 'close', code: 1000, reason: '' }],
  );
});

test('a binary message in 100 fragments', async () => {
  const wire = [];
  const whole = new Uint8Array(100 * 7);
  for (let i = 0; i < 100; i++) {
    const piece = new Uint8Array(7).fill(i);
    whole.set(piece, i * 7);
    wire.push(cframe({ opcode: i === 0 ? 2 : 0, fin: i === 99, payload: piece }));
  }
  await expectMessages(wire, [{ type: 'binary', data: whole }]);
});

test.run();
