// The codec core's use of permessage-deflate: RSV1 on the first frame only, inflate before delivery, UTF-8 checked
// after inflating, limits applied to the inflated size, compressed and plain messages mixed. (The extension itself
// is tested in deflate*.test.ts.) Skipped where the runtime has no zlib.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CodecError,
  FrameDecoder,
  WebSocketDecoderStream,
  WebSocketEncoderStream,
  deflateAvailable,
  loadZlib,
  PerMessageDeflate,
  type DeflateAgreement,
  type Frame,
  type IncomingMessage,
  type Message,
  type MessageChunk,
} from '../src/index.js';
import { cframe, collect, concatBytes, fromChunks, norm, split } from './_helpers.js';

const agreement: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

async function available(): Promise<boolean> {
  return deflateAvailable || (await loadZlib());
}

// Tests that need node:zlib are registered as skipped where it cannot be loaded (browsers), rather than passing
// without asserting anything; the declined-offer path is what those runtimes test instead.
const zlibOk = await available();

const msgs: Message[] = [
  { type: 'text', data: 'small' },
  { type: 'text', data: 'compress me please '.repeat(500) },
  { type: 'binary', data: new Uint8Array(20_000).fill(42) },
  { type: 'ping', data: Uint8Array.of(1) },
  { type: 'binary', data: Uint8Array.of(1, 2, 3) },
  { type: 'text', data: 'ünïcödé '.repeat(300) },
  { type: 'close', code: 1000, reason: '' },
];

(zlibOk ? test : test.skip)('compressed round trip, both directions, fragmented, random chunking', async () => {
  for (const [a, b] of [['client', 'server'], ['server', 'client']] as const) {
    const wire = await collect(fromChunks(msgs).pipeThrough(new WebSocketEncoderStream({ role: a, deflate: agreement, fragmentSize: 300 })));
    const all = concatBytes(wire);
    // The big messages really were compressed: the wire is much smaller than their payloads.
    assert.ok(all.length < 10_000, `wire of ${all.length} bytes`);
    const got = await collect(fromChunks(split(all, [17, 999, 3])).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: b, deflate: agreement })));
    assert.equal(norm(got), norm(msgs));
  }
});

(zlibOk ? test : test.skip)('RSV1 only on the first frame of a compressed message; small messages sent plain', async () => {
  const wire = await collect(
    fromChunks<Message>([{ type: 'text', data: 'x'.repeat(5000) }, { type: 'text', data: 'tiny' }]).pipeThrough(
      new WebSocketEncoderStream({ role: 'server', deflate: agreement, fragmentSize: 10 }),
    ),
  );
  const frames: Frame[] = [];
  new FrameDecoder({ role: 'client', deflate: agreement }).push(concatBytes(wire), frames);
  const data = frames.slice(0, -1);
  assert.ok(data.length > 1);
  assert.ok(data[0]!.rsv1 && data[0]!.opcode === 1);
  assert.ok(data.slice(1).every((f) => !f.rsv1 && f.opcode === 0));
  const last = frames[frames.length - 1]!;
  assert.ok(!last.rsv1 && last.opcode === 1);
});

(zlibOk ? test : test.skip)('a compressed message in many tiny fragments (and empty ones) inflates correctly', async () => {
  const text = 'fragmented and compressed '.repeat(200);
  const wire = await collect(
    fromChunks<Message>([{ type: 'text', data: text }]).pipeThrough(new WebSocketEncoderStream({ role: 'client', deflate: agreement, fragmentSize: 3 })),
  );
  const extra = cframe({ opcode: 0, fin: false });
  // Insert an empty continuation after the first frame.
  const got = await collect(
    fromChunks([wire[0]!, extra, ...wire.slice(1)]).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: 'server', deflate: agreement })),
  );
  assert.equal(got, [{ type: 'text', data: text }]);
});

(zlibOk ? test : test.skip)('compressThreshold: everything compressed at 0', async () => {
  const wire = await collect(
    fromChunks<Message>([{ type: 'binary', data: Uint8Array.of(1) }]).pipeThrough(
      new WebSocketEncoderStream({ role: 'server', deflate: agreement, compressThreshold: 0 }),
    ),
  );
  assert.is(wire[0]![0], 0xc2);
});

async function compressedFrame(payload: Uint8Array, opcode: number): Promise<Uint8Array> {
  const pmd = new PerMessageDeflate(agreement, 'client', { maxMessageSize: 1 << 20 });
  const c = await pmd.compress(payload);
  pmd.dispose();
  return cframe({ opcode, rsv: 4, payload: c });
}

(zlibOk ? test : test.skip)('compressed text that inflates to invalid UTF-8 -> 1007', async () => {
  const wire = await compressedFrame(Uint8Array.of(0x41, 0xed, 0xa0, 0x80), 1);
  try {
    await collect(fromChunks([wire]).pipeThrough(new WebSocketDecoderStream({ role: 'server', deflate: agreement })));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CodecError);
    assert.is((e as CodecError).closeCode, 1007);
  }
});

(zlibOk ? test : test.skip)('compressed message inflating past maxMessageSize -> 1009', async () => {
  const wire = await compressedFrame(new Uint8Array(100_000), 2);
  assert.ok(wire.length < 1000);
  try {
    await collect(fromChunks([wire]).pipeThrough(new WebSocketDecoderStream({ role: 'server', deflate: agreement, maxMessageSize: 50_000 })));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CodecError);
    assert.is((e as CodecError).closeCode, 1009);
  }
});

(zlibOk ? test : test.skip)('compressed messages with streamMessages come out as chunks of the inflated data', async () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 7);
  const wire = [await compressedFrame(big, 2), cframe({ opcode: 9 }), await compressedFrame(new Uint8Array(0), 2)];
  const got = await collect(fromChunks(wire).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: 'server', deflate: agreement, streamMessages: true })));
  const chunks = got.filter((m): m is MessageChunk => m.type === 'chunk');
  const firstRun = chunks.slice(0, chunks.findIndex((c) => c.last) + 1);
  assert.equal(Array.from(concatBytes(firstRun.map((c) => c.data))).slice(0, 20), Array.from(big.subarray(0, 20)));
  assert.is(concatBytes(firstRun.map((c) => c.data)).length, big.length);
  const lastRun = chunks.slice(firstRun.length);
  assert.equal(lastRun.map((c) => [c.first, c.last, c.data.length]), [[true, true, 0]]);
});

(zlibOk ? test : test.skip)('valid messages before a compressed message and a protocol error in the same chunk are delivered first', async () => {
  const wire = concatBytes([cframe({ opcode: 1, payload: 'a' }), await compressedFrame(new TextEncoder().encode('b'.repeat(2000)), 1), cframe({ opcode: 3 })]);
  const got: IncomingMessage[] = [];
  const reader = fromChunks([wire]).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: 'server', deflate: agreement })).getReader();
  let error: unknown;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      got.push(r.value);
    }
  } catch (e) {
    error = e;
  }
  assert.is((error as CodecError).closeCode, 1002);
  assert.equal(got, [{ type: 'text', data: 'a' }, { type: 'text', data: 'b'.repeat(2000) }]);
});

test('MessageFramer: a failing compressor rejects the write and emits no frame', async () => {
  const { MessageFramer, FrameEncoder } = await import('../src/index.js');
  const enc = new FrameEncoder({ role: 'server' });
  enc.out = [];
  const failing = {
    decompress: () => Promise.reject(new Error('x')),
    compress: () => Promise.reject(new Error('boom')),
    shouldCompress: () => true,
    dispose: () => {},
  };
  const framer = new MessageFramer({ role: 'server' }, enc, failing);
  const r = framer.write({ type: 'binary', data: new Uint8Array(10) }, { flush() {}, ready: async () => {} });
  assert.ok(r instanceof Promise);
  try {
    await r;
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'boom');
  }
  assert.is(enc.out.length, 0);
});

test.run();
