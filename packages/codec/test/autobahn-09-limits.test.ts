// Autobahn TestSuite group 9 (limits and large messages): large text and binary messages in many chunkings and
// fragmentations decode exactly; frame and message limits are enforced from the header, before any payload byte is
// buffered (1009).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CodecError, FrameDecoder, MessageDecoderStream, type Frame } from '../src/index.js';
import { cframe, collect, decodeSync, expectFailure, fromChunks, frame, randomBytes, split } from './_helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

for (const size of [64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB]) {
  test(`9.1 text message of ${size / KiB} KiB in one frame`, () => {
    const text = 'BAsd7&jh23'.repeat(size / 10 + 1).slice(0, size);
    const r = decodeSync(split(cframe({ opcode: 1, payload: text }), [64 * KiB]));
    assert.is(r.error, undefined);
    assert.is(r.messages.length, 1);
    assert.ok(r.messages[0]!.type === 'text' && r.messages[0]!.data === text);
  });
  test(`9.2 binary message of ${size / KiB} KiB in one frame`, () => {
    const data = randomBytes(size, size);
    const r = decodeSync(split(cframe({ opcode: 2, payload: data }), [64 * KiB]));
    assert.is(r.error, undefined);
    assert.ok(r.messages[0]!.type === 'binary' && sameBytes(r.messages[0]!.data, data));
  });
}

for (const chunk of [64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB]) {
  test(`9.4 binary 1 MiB message fragmented into ${chunk}-byte frames, chunked at 4000 bytes`, () => {
    const data = randomBytes(1 * MiB, chunk);
    const frames: Uint8Array[] = [];
    for (let o = 0; o < data.length; o += chunk) {
      frames.push(cframe({ opcode: o === 0 ? 2 : 0, fin: o + chunk >= data.length, payload: data.subarray(o, o + chunk) }));
    }
    const wire = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of frames) {
      wire.set(f, o);
      o += f.length;
    }
    const r = decodeSync(split(wire, [4000]));
    assert.is(r.error, undefined);
    assert.ok(r.messages[0]!.type === 'binary' && sameBytes(r.messages[0]!.data, data));
  });
}

test('9.x many small messages in one chunk: one push, all delivered', () => {
  const parts: number[] = [];
  for (let i = 0; i < 1000; i++) parts.push(...cframe({ opcode: 2, payload: randomBytes(16, i + 1) }));
  const r = decodeSync(Uint8Array.from(parts));
  assert.is(r.messages.length, 1000);
});

test('frame larger than maxFrameSize -> 1009 from the header alone', async () => {
  const header = cframe({ opcode: 2, payload: new Uint8Array(1001) }).subarray(0, 8);
  const e = await expectFailure(header, 1009, [], { maxFrameSize: 1000 });
  assert.is(e.code, 'FRAME_TOO_BIG');
});

test('frame of exactly maxFrameSize is accepted', () => {
  const r = decodeSync(cframe({ opcode: 2, payload: new Uint8Array(1000) }), { maxFrameSize: 1000 });
  assert.is(r.error, undefined);
});

test('message larger than maxMessageSize across fragments -> 1009 at the header of the fragment that overflows', async () => {
  const e = await expectFailure(
    [cframe({ opcode: 2, fin: false, payload: new Uint8Array(600) }), cframe({ opcode: 0, payload: new Uint8Array(401) }).subarray(0, 8)],
    1009,
    [],
    { maxMessageSize: 1000 },
  );
  assert.is(e.code, 'MESSAGE_TOO_BIG');
  const ok = decodeSync([cframe({ opcode: 2, fin: false, payload: new Uint8Array(600) }), cframe({ opcode: 0, payload: new Uint8Array(400) })], {
    maxMessageSize: 1000,
  });
  assert.is(ok.error, undefined);
});

test('control frames are not counted against the message limit', () => {
  const r = decodeSync(
    [cframe({ opcode: 2, fin: false, payload: new Uint8Array(1000) }), cframe({ opcode: 9, payload: new Uint8Array(125) }), cframe({ opcode: 0 })],
    { maxMessageSize: 1000 },
  );
  assert.is(r.error, undefined);
  assert.is(r.messages.length, 2);
});

test('huge 64-bit length with default limits -> 1009 without allocating', async () => {
  await expectFailure(frame({ opcode: 2, length64: 1n << 40n }), 1009, [], { role: 'client' });
});

test('limit options are validated', () => {
  assert.throws(() => new FrameDecoder({ role: 'server', maxMessageSize: -1 }), RangeError);
  assert.throws(() => new FrameDecoder({ role: 'server', maxFrameSize: Number.NaN }), RangeError);
});

test('default limits: 64 MiB message, frame limit follows the message limit', () => {
  const dec = new FrameDecoder({ role: 'client' });
  const out: Frame[] = [];
  assert.throws(() => dec.push(frame({ opcode: 2, length64: BigInt(64 * MiB + 1) }).subarray(0, 10), out), (e: unknown) => e instanceof CodecError && e.closeCode === 1009);
  const dec2 = new FrameDecoder({ role: 'client', maxMessageSize: 10 });
  assert.throws(() => dec2.push(frame({ opcode: 2, payload: new Uint8Array(11) }), out), (e: unknown) => e instanceof CodecError && e.code === 'FRAME_TOO_BIG');
});

test('MessageDecoderStream enforces maxMessageSize on frames of any origin', async () => {
  const f = (opcode: number, fin: boolean, n: number): Frame => ({ fin, rsv1: false, rsv2: false, rsv3: false, opcode, payload: new Uint8Array(n) });
  try {
    await collect(fromChunks([f(2, false, 6), f(0, true, 6)]).pipeThrough(new MessageDecoderStream({ role: 'server', maxMessageSize: 10 })));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CodecError);
    assert.is((e as CodecError).closeCode, 1009);
  }
});

test('9.x message of 50000 one-byte fragments and 50000 empty ones (coalesced, not held as views)', () => {
  const parts: Uint8Array[] = [];
  const want = new Uint8Array(50_000);
  for (let i = 0; i < 50_000; i++) {
    want[i] = i & 0xff;
    parts.push(cframe({ opcode: i === 0 ? 2 : 0, fin: false, payload: Uint8Array.of(i & 0xff) }));
    parts.push(cframe({ opcode: 0, fin: false }));
  }
  parts.push(cframe({ opcode: 0 }));
  let n = 0;
  for (const p of parts) n += p.length;
  const wire = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    wire.set(p, o);
    o += p.length;
  }
  const r = decodeSync(split(wire, [65536]));
  assert.is(r.error, undefined);
  assert.ok(r.messages[0]!.type === 'binary' && sameBytes(r.messages[0]!.data, want));
  const t = decodeSync(split(cframe({ opcode: 1, fin: false, payload: 'ab' }), [3]).concat(
    Array.from({ length: 40 }, (_, i) => cframe({ opcode: 0, fin: i === 39, payload: 'é' })),
  ));
  assert.equal(t.messages, [{ type: 'text', data: 'ab' + 'é'.repeat(40) }]);
});

test.run();
