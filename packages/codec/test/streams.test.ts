// The stream wrappers: composition with pipeThrough, equivalence of the fused and layered paths, byte-measured
// backpressure, error propagation with the close code, truncated input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WritableStream } from '@web-std/stream';
import {
  CodecError,
  FrameDecoderStream,
  FrameEncoderStream,
  MessageDecoderStream,
  MessageEncoderStream,
  WebSocketDecoderStream,
  WebSocketEncoderStream,
  DEFAULT_HIGH_WATER_MARK,
  type Frame,
  type IncomingMessage,
  type OutgoingMessage,
} from '../src/index.js';
import { cframe, collect, concatBytes, fromChunks, norm, split } from './_helpers.js';

const msgs: OutgoingMessage[] = [
  { type: 'text', data: 'one' },
  { type: 'binary', data: new Uint8Array(70_000).fill(1) },
  { type: 'ping', data: Uint8Array.of(9) },
  { type: 'text', data: 'ü'.repeat(1000) },
  { type: 'close', code: 1000, reason: 'done' },
];

test('layered (message->frame->bytes->frame->message) equals fused, for both roles', async () => {
  for (const [a, b] of [['client', 'server'], ['server', 'client']] as const) {
    const layered = await collect(
      fromChunks(msgs)
        .pipeThrough(new MessageEncoderStream({ role: a, fragmentSize: 5000 }))
        .pipeThrough(new FrameEncoderStream({ role: a }))
        .pipeThrough(new FrameDecoderStream({ role: b }))
        .pipeThrough(new MessageDecoderStream<IncomingMessage>({ role: b })),
    );
    const bytes = await collect(fromChunks(msgs).pipeThrough(new WebSocketEncoderStream({ role: a, fragmentSize: 5000 })));
    const fused = await collect(
      fromChunks(split(concatBytes(bytes), [333])).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: b })),
    );
    assert.equal(norm(layered), norm(fused));
    assert.is(layered.length, 5);
  }
});

test('decoder stream errors with the CodecError carrying the close code', async () => {
  const bad = cframe({ opcode: 9, fin: false });
  for (const s of [new FrameDecoderStream({ role: 'server' }), new WebSocketDecoderStream({ role: 'server' })]) {
    try {
      await collect(fromChunks([bad]).pipeThrough(s as TransformStream<Uint8Array, unknown>));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, CodecError);
      assert.is((e as CodecError).closeCode, 1002);
    }
  }
});

test('MessageDecoderStream re-checks frames of unknown origin', async () => {
  const f = (opcode: number, fin: boolean, extra: Partial<Frame> = {}): Frame => ({
    fin, rsv1: false, rsv2: false, rsv3: false, opcode, payload: new Uint8Array(0), ...extra,
  });
  const cases: Array<[Frame[], number]> = [
    [[f(3, true)], 1002],
    [[f(1, true, { rsv2: true })], 1002],
    [[f(1, true, { rsv1: true })], 1002],
    [[f(9, false)], 1002],
    [[f(9, true, { payload: new Uint8Array(126) })], 1002],
    [[f(0, true)], 1002],
    [[f(1, false), f(2, true)], 1002],
    [[f(1, true, { payload: Uint8Array.of(0xff) })], 1007],
    [[f(1, false, { payload: Uint8Array.of(0xc3) }), f(0, true)], 1007],
    [[f(8, true, { payload: Uint8Array.of(3) })], 1002],
  ];
  for (const [frames, code] of cases) {
    try {
      await collect(fromChunks(frames).pipeThrough(new MessageDecoderStream({ role: 'server' })));
      assert.unreachable(JSON.stringify(frames));
    } catch (e) {
      assert.instance(e, CodecError);
      assert.is((e as CodecError).closeCode, code);
    }
  }
});

test('byte stream ending inside a frame or message errors with TRUNCATED (1006, not to be sent)', async () => {
  const inputs = [cframe({ opcode: 1, payload: 'hello' }).subarray(0, 4), cframe({ opcode: 1, fin: false, payload: 'a' })];
  for (const input of inputs) {
    for (const mk of [() => new WebSocketDecoderStream({ role: 'server' }), () => new FrameDecoderStream({ role: 'server' })]) {
      const s = mk() as TransformStream<Uint8Array, unknown>;
      try {
        await collect(fromChunks([input.slice()]).pipeThrough(s));
        if (s instanceof FrameDecoderStream && input.length > 4) continue; // frames are complete; messages are not its concern
        assert.unreachable();
      } catch (e) {
        assert.instance(e, CodecError);
        assert.is((e as CodecError).code, 'TRUNCATED');
      }
    }
  }
  try {
    const f: Frame = { fin: false, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload: new Uint8Array(1) };
    await collect(fromChunks([f]).pipeThrough(new MessageDecoderStream({ role: 'server' })));
    assert.unreachable();
  } catch (e) {
    assert.is((e as CodecError).code, 'TRUNCATED');
  }
});

test('messages of the last chunk are delivered before the TRUNCATED error at the end of input', async () => {
  for (const mk of [() => new WebSocketDecoderStream({ role: 'client' }), () => new FrameDecoderStream({ role: 'client' })]) {
    const ts = mk() as TransformStream<Uint8Array, unknown>;
    const w = ts.writable.getWriter();
    void w.write(Uint8Array.of(0x89, 0x02, 0x68, 0x69, 0x8a, 0x00, 0x89, 0x00, 0x81)).catch(() => {});
    void w.close().catch(() => {});
    const r = ts.readable.getReader();
    let n = 0;
    let code = '';
    try {
      for (;;) {
        const x = await r.read();
        if (x.done) break;
        n++;
      }
    } catch (e) {
      code = (e as CodecError).code;
    }
    assert.is(code, 'TRUNCATED');
    assert.is(n, 3);
  }
});

test('backpressure is measured in bytes: a slow consumer stops the decoder after about one high-water mark', async () => {
  // 200 messages of 4 KiB each; nobody reads. The decoder must stop pulling input after ~64 KiB of queued payload
  // on its readable side plus ~64 KiB on its writable side.
  const one = cframe({ opcode: 2, payload: new Uint8Array(4096) });
  let pulled = 0;
  const { ReadableStream } = await import('@web-std/stream');
  const src = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled >= 200) return c.close();
      pulled++;
      c.enqueue(one.slice());
    },
  }, { highWaterMark: 0 });
  const out = src.pipeThrough(new WebSocketDecoderStream({ role: 'server' }));
  await new Promise((r) => globalThis.setTimeout(r, 50));
  const limit = (2 * DEFAULT_HIGH_WATER_MARK) / 4096 + 4;
  assert.ok(pulled <= limit, `pulled ${pulled} chunks, expected at most ${limit}`);
  assert.ok(pulled >= 16, `pulled ${pulled}`);
  let n = 0;
  await out.pipeTo(new WritableStream({ write() { n++; } }));
  assert.is(n, 200);
  assert.is(pulled, 200);
});

test('high-water marks are configurable and validated', async () => {
  const s = new WebSocketDecoderStream({ role: 'server', readableHighWaterMark: 1, writableHighWaterMark: 1 });
  const w = s.writable.getWriter();
  assert.is(w.desiredSize, 1);
  await w.close();
  assert.throws(() => new FrameDecoderStream({ role: 'server', readableHighWaterMark: -1 }), RangeError);
});

test('encoder stream with a slow consumer holds back a streamed payload', async () => {
  let produced = 0;
  function* pieces(): Generator<Uint8Array> {
    for (let i = 0; i < 100; i++) {
      produced++;
      yield new Uint8Array(16 * 1024);
    }
  }
  const out = fromChunks<OutgoingMessage>([{ type: 'binary', data: pieces() }]).pipeThrough(new WebSocketEncoderStream({ role: 'server' }));
  await new Promise((r) => globalThis.setTimeout(r, 60));
  assert.ok(produced <= 8, `produced ${produced} pieces of 16 KiB without a reader`);
  const chunks = await collect(out);
  assert.is(produced, 100);
  assert.is(concatBytes(chunks).length, 100 * (16 * 1024 + 4));
});

test.run();
