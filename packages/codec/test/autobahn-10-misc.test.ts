// Autobahn TestSuite group 10 (miscellaneous): auto-fragmentation on send (10.1.1: 64 KiB text in 1300-byte frames)
// and the receiving side putting it back together; plus encoder behaviour for every message kind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FrameDecoder,
  MessageEncoderStream,
  WebSocketEncoderStream,
  WebSocketDecoderStream,
  type Frame,
  type OutgoingMessage,
  type IncomingMessage,
} from '../src/index.js';
import { collect, concatBytes, decodeSync, fromChunks, norm, split } from './_helpers.js';

async function encode(msgs: OutgoingMessage[], o: { role: 'client' | 'server'; fragmentSize?: number }): Promise<Uint8Array> {
  return concatBytes(await collect(fromChunks(msgs).pipeThrough(new WebSocketEncoderStream(o))));
}

function frames(wire: Uint8Array, role: 'client' | 'server'): Frame[] {
  const out: Frame[] = [];
  new FrameDecoder({ role }).push(wire, out);
  return out;
}

test('10.1.1 64 KiB text auto-fragmented at 1300 bytes by a client, reassembled by a server', async () => {
  const text = '*'.repeat(65536);
  const wire = await encode([{ type: 'text', data: text }], { role: 'client', fragmentSize: 1300 });
  const fs = frames(wire.slice(), 'server');
  assert.is(fs.length, Math.ceil(65536 / 1300));
  assert.is(fs[0]!.opcode, 1);
  assert.ok(fs.slice(1).every((f) => f.opcode === 0));
  assert.ok(fs.slice(0, -1).every((f) => !f.fin && f.payload.length === 1300));
  assert.ok(fs[fs.length - 1]!.fin);
  const r = decodeSync(split(wire, [4096]), { role: 'server' });
  assert.equal(r.messages, [{ type: 'text', data: text }]);
});

test('server-encoded binary fragmented at 1000 bytes decodes on a client', async () => {
  const data = new Uint8Array(10_000).map((_, i) => i & 0xff);
  const wire = await encode([{ type: 'binary', data }], { role: 'server', fragmentSize: 1000 });
  assert.is(frames(wire.slice(), 'client').length, 10);
  const r = decodeSync(wire, { role: 'client' });
  assert.equal(norm(r.messages), norm([{ type: 'binary', data }]));
});

test('every message kind round-trips through the fused encoder and decoder, both directions', async () => {
  const msgs: OutgoingMessage[] = [
    { type: 'text', data: 'héllo 😀' },
    { type: 'binary', data: Uint8Array.of(1, 2, 3) },
    { type: 'ping', data: Uint8Array.of(4) },
    { type: 'pong', data: new Uint8Array(0) },
    { type: 'text', data: new TextEncoder().encode('pre-encoded') },
    { type: 'close', code: 4001, reason: 'bye' },
  ];
  const want: IncomingMessage[] = [
    { type: 'text', data: 'héllo 😀' },
    { type: 'binary', data: Uint8Array.of(1, 2, 3) },
    { type: 'ping', data: Uint8Array.of(4) },
    { type: 'pong', data: new Uint8Array(0) },
    { type: 'text', data: 'pre-encoded' },
    { type: 'close', code: 4001, reason: 'bye' },
  ];
  for (const [enc, dec] of [['client', 'server'], ['server', 'client']] as const) {
    const wire = await encode(msgs, { role: enc });
    const got = await collect(fromChunks([wire]).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: dec })));
    assert.equal(norm(got), norm(want));
  }
});

test('close without a code encodes an empty payload (decoded as 1005)', async () => {
  const wire = await encode([{ type: 'close' }], { role: 'server' });
  assert.equal(Array.from(wire), [0x88, 0x00]);
  assert.equal(decodeSync(wire, { role: 'client' }).messages, [{ type: 'close', code: 1005, reason: '' }]);
});

test('encoder refuses: messages after close, oversized ping, invalid pre-encoded text, bad close code', async () => {
  const cases: OutgoingMessage[][] = [
    [{ type: 'close', code: 1000 }, { type: 'text', data: 'late' }],
    [{ type: 'ping', data: new Uint8Array(126) }],
    [{ type: 'text', data: Uint8Array.of(0xff) }],
    [{ type: 'close', code: 1006 }],
    [{ type: 'nope' } as unknown as OutgoingMessage],
  ];
  for (const msgs of cases) {
    try {
      await encode(msgs, { role: 'server' });
      assert.unreachable(JSON.stringify(msgs));
    } catch (e) {
      assert.ok(e instanceof TypeError || e instanceof RangeError, String(e));
    }
  }
  assert.throws(() => new WebSocketEncoderStream({ role: 'server', fragmentSize: 0 }), RangeError);
});

test('MessageEncoderStream produces frames (fragments carry the opcode only on the first)', async () => {
  const got = await collect(
    fromChunks<OutgoingMessage>([{ type: 'binary', data: new Uint8Array(5) }, { type: 'ping', data: new Uint8Array(1) }]).pipeThrough(
      new MessageEncoderStream({ role: 'client', fragmentSize: 2 }),
    ),
  );
  assert.equal(
    got.map((f) => [f.opcode, f.fin, f.payload.length]),
    [
      [2, false, 2],
      [0, false, 2],
      [0, true, 1],
      [9, true, 1],
    ],
  );
});

test('chunk messages (relay of a streamed message) encode as first/continuation frames, controls may interleave', async () => {
  const msgs: OutgoingMessage[] = [
    { type: 'chunk', kind: 'binary', data: Uint8Array.of(1), first: true, last: false },
    { type: 'ping', data: new Uint8Array(0) },
    { type: 'chunk', kind: 'binary', data: Uint8Array.of(2), first: false, last: true },
  ];
  const wire = await encode(msgs, { role: 'server' });
  const fs = frames(wire.slice(), 'client');
  assert.equal(fs.map((f) => [f.opcode, f.fin]), [
    [2, false],
    [9, true],
    [0, true],
  ]);
  const bad: OutgoingMessage[][] = [
    [{ type: 'chunk', kind: 'binary', data: Uint8Array.of(1), first: false, last: true }],
    [{ type: 'chunk', kind: 'text', data: Uint8Array.of(1), first: true, last: false }, { type: 'binary', data: new Uint8Array(1) }],
    [
      { type: 'chunk', kind: 'text', data: Uint8Array.of(1), first: true, last: false },
      { type: 'chunk', kind: 'binary', data: Uint8Array.of(1), first: false, last: true },
    ],
  ];
  for (const msgs of bad) {
    try {
      await encode(msgs, { role: 'server' });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, TypeError);
    }
  }
});

test('a failed decoder stays failed with the same error', () => {
  const dec = new FrameDecoder({ role: 'server' });
  let first: unknown;
  try {
    dec.push(Uint8Array.of(0x83, 0x80, 0, 0, 0, 0), []);
  } catch (e) {
    first = e;
  }
  assert.ok(first);
  assert.throws(() => dec.push(Uint8Array.of(0x81), []), (e: unknown) => e === first);
});

test.run();
