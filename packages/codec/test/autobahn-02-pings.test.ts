// Autobahn TestSuite group 2 (pings and pongs), from RFC 6455 5.5.2/5.5.3: pings and pongs of 0..125 bytes are
// delivered as messages (the session answers them), 126+ bytes or fragmented control frames fail with 1002.
import { test } from 'uvu';
import { cframe, expectFailure, expectMessages, randomBytes } from './_helpers.js';

const te = new TextEncoder();

test('2.1 ping without payload', async () => {
  await expectMessages(cframe({ opcode: 9 }), [{ type: 'ping', data: new Uint8Array(0) }]);
});

test('2.2 ping with small text payload', async () => {
  await expectMessages(cframe({ opcode: 9, payload: 'Hello, world!' }), [{ type: 'ping', data: te.encode('Hello, world!') }]);
});

test('2.3 ping with small binary payload', async () => {
  const data = Uint8Array.of(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff);
  await expectMessages(cframe({ opcode: 9, payload: data }), [{ type: 'ping', data }]);
});

test('2.4 ping with 125-byte payload', async () => {
  const data = randomBytes(125, 24);
  await expectMessages(cframe({ opcode: 9, payload: data }), [{ type: 'ping', data }]);
});

test('2.5 ping with 126-byte payload -> 1002', async () => {
  await expectFailure(cframe({ opcode: 9, payload: new Uint8Array(126) }), 1002);
});

test('2.5 ping claiming 126 bytes fails at the header, before any payload byte', async () => {
  const header = cframe({ opcode: 9, payload: new Uint8Array(126) }).subarray(0, 8);
  await expectFailure(header, 1002);
});

test('2.6 ping with 125-byte payload sent one byte at a time', async () => {
  const data = randomBytes(125, 26);
  const wire = cframe({ opcode: 9, payload: data });
  const chunks = Array.from(wire, (b) => Uint8Array.of(b));
  await expectMessages(chunks, [{ type: 'ping', data }]);
});

test('2.7 unsolicited pong without payload is delivered', async () => {
  await expectMessages(cframe({ opcode: 10 }), [{ type: 'pong', data: new Uint8Array(0) }]);
});

test('2.8 unsolicited pong with payload is delivered', async () => {
  await expectMessages(cframe({ opcode: 10, payload: 'unsolicited pong payload' }), [
    { type: 'pong', data: te.encode('unsolicited pong payload') },
  ]);
});

test('2.9 pong then ping: both delivered in order', async () => {
  await expectMessages([cframe({ opcode: 10, payload: 'pong' }), cframe({ opcode: 9, payload: 'ping' })], [
    { type: 'pong', data: te.encode('pong') },
    { type: 'ping', data: te.encode('ping') },
  ]);
});

test('2.10 ten pings in one chunk: ten messages', async () => {
  const wire = [];
  const want = [];
  for (let i = 0; i < 10; i++) {
    wire.push(cframe({ opcode: 9, payload: `payload-${i}` }));
    want.push({ type: 'ping' as const, data: te.encode(`payload-${i}`) });
  }
  await expectMessages(wire, want);
});

test('2.11 ten pings, each in its own chunk, one byte at a time', async () => {
  const chunks: Uint8Array[] = [];
  const want = [];
  for (let i = 0; i < 10; i++) {
    for (const b of cframe({ opcode: 9, payload: `payload-${i}` })) chunks.push(Uint8Array.of(b));
    want.push({ type: 'ping' as const, data: te.encode(`payload-${i}`) });
  }
  await expectMessages(chunks, want);
});

test('a client receives unmasked pings', async () => {
  const { frame } = await import('./_helpers.js');
  await expectMessages(frame({ opcode: 9, payload: 'x' }), [{ type: 'ping', data: te.encode('x') }], { role: 'client' });
});

test('pong with 126-byte payload -> 1002', async () => {
  await expectFailure(cframe({ opcode: 10, payload: new Uint8Array(126) }), 1002);
});

test('ping with a 16-bit length form holding 125 is accepted (non-minimal)', async () => {
  await expectMessages(cframe({ opcode: 9, payload: new Uint8Array(125), lengthForm: 16 }), [
    { type: 'ping', data: new Uint8Array(125) },
  ]);
});

test.run();
