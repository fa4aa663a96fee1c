// Autobahn TestSuite group 1 (framing), written from RFC 6455 5.2: text and binary messages of every length-form
// boundary, in both roles, with exact delivery checked under many chunkings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameDecoder, FrameEncoder, type Frame } from '../src/index.js';
import { cframe, expectFailure, expectMessages, frame, randomBytes, split } from './_helpers.js';

const BOUNDARIES = [0, 1, 125, 126, 127, 128, 65535, 65536, 70000];

function text(n: number): string {
  return '*'.repeat(n);
}

for (const n of BOUNDARIES) {
  test(`1.1 text message of ${n} bytes (server receives masked)`, async () => {
    await expectMessages(cframe({ opcode: 1, payload: text(n) }), [{ type: 'text', data: text(n) }]);
  });
  test(`1.2 binary message of ${n} bytes (server receives masked)`, async () => {
    const data = randomBytes(n, n + 1);
    await expectMessages(cframe({ opcode: 2, payload: data }), [{ type: 'binary', data }]);
  });
  test(`1.x binary message of ${n} bytes (client receives unmasked)`, async () => {
    const data = randomBytes(n, n + 7);
    await expectMessages(frame({ opcode: 2, payload: data }), [{ type: 'binary', data }], { role: 'client' });
  });
}

test('1.1.x text message of 65536 bytes delivered in 997-byte chunks', async () => {
  const wire = cframe({ opcode: 1, payload: text(65536) });
  await expectMessages(split(wire, [997]), [{ type: 'text', data: text(65536) }]);
});

test('several frames in one chunk decode in one call, in order', () => {
  const wire = new Uint8Array([
    ...cframe({ opcode: 1, payload: 'a' }),
    ...cframe({ opcode: 2, payload: Uint8Array.of(1, 2) }),
    ...cframe({ opcode: 9, payload: 'p' }),
  ]);
  const out: Frame[] = [];
  new FrameDecoder({ role: 'server' }).push(wire, out);
  assert.equal(out.map((f) => [f.opcode, f.fin, Array.from(f.payload)]), [
    [1, true, [97]],
    [2, true, [1, 2]],
    [9, true, [112]],
  ]);
});

test('a payload lying whole in a chunk is a view of that chunk (no copy), unmasked in place', () => {
  const wire = cframe({ opcode: 2, payload: Uint8Array.of(9, 8, 7, 6, 5) });
  const out: Frame[] = [];
  new FrameDecoder({ role: 'server' }).push(wire, out);
  const p = out[0]!.payload;
  assert.is(p.buffer, wire.buffer);
  assert.is(p.byteOffset, 6);
  assert.equal(Array.from(wire.subarray(6)), [9, 8, 7, 6, 5]);
});

test('non-minimal length encodings are accepted (documented leniency)', async () => {
  await expectMessages(cframe({ opcode: 1, payload: 'abc', lengthForm: 16 }), [{ type: 'text', data: 'abc' }]);
  await expectMessages(cframe({ opcode: 1, payload: 'abc', lengthForm: 64 }), [{ type: 'text', data: 'abc' }]);
  await expectMessages(frame({ opcode: 2, payload: 'xyz', lengthForm: 64 }), [{ type: 'binary', data: new TextEncoder().encode('xyz') }], {
    role: 'client',
  });
});

test('64-bit length with the most significant bit set -> 1002', async () => {
  await expectFailure(frame({ opcode: 2, length64: 1n << 63n }), 1002, [], { role: 'client' });
  await expectFailure(frame({ opcode: 2, length64: (1n << 63n) | 5n }), 1002, [], { role: 'client' });
});

test('64-bit length past 2^53 -> 1009 (past every limit)', async () => {
  await expectFailure(frame({ opcode: 2, length64: (1n << 62n) + 1n }), 1009, [], { role: 'client', maxMessageSize: Infinity });
});

test('a server rejects an unmasked frame, a client a masked one -> 1002', async () => {
  const e1 = await expectFailure(frame({ opcode: 1, payload: 'hi' }), 1002);
  assert.is(e1.code, 'MISSING_MASK');
  const e2 = await expectFailure(cframe({ opcode: 1, payload: 'hi' }), 1002, [], { role: 'client' });
  assert.is(e2.code, 'UNEXPECTED_MASK');
});

test('encoder header forms: 7-bit up to 125, 16-bit up to 65535, 64-bit above, always minimal', () => {
  const enc = new FrameEncoder({ role: 'server' });
  const cases: Array<[number, number[]]> = [
    [0, [0x82, 0]],
    [125, [0x82, 125]],
    [126, [0x82, 126, 0, 126]],
    [65535, [0x82, 126, 0xff, 0xff]],
    [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
  ];
  for (const [n, head] of cases) {
    const out: Uint8Array[] = [];
    enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload: new Uint8Array(n) }, out);
    assert.equal(Array.from(out[0]!.subarray(0, head.length)), head, `length ${n}`);
    let total = 0;
    for (const c of out) total += c.length;
    assert.is(total, head.length + n);
  }
});

test('encoder: server coalesces small frames, passes large payloads through without copying', () => {
  const enc = new FrameEncoder({ role: 'server' });
  const small: Uint8Array[] = [];
  enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload: new Uint8Array(100) }, small);
  assert.is(small.length, 1);
  const big = new Uint8Array(100_000);
  const out: Uint8Array[] = [];
  enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload: big }, out);
  assert.is(out.length, 2);
  assert.is(out[1], big);
});

test('encoder: small output chunks share slabs but are never overwritten (across slab rollovers)', () => {
  for (const role of ['server', 'client'] as const) {
    const enc = new FrameEncoder({ role });
    const out: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload: new Uint8Array(100 + (i % 50)).fill(i & 0xff) }, out);
    const dec = new FrameDecoder({ role: role === 'server' ? 'client' : 'server' });
    const frames: Frame[] = [];
    for (const c of out) dec.push(c.slice(), frames);
    assert.is(frames.length, 3000);
    frames.forEach((f, i) => {
      if (f.payload.length !== 100 + (i % 50) || !f.payload.every((b) => b === (i & 0xff))) assert.unreachable(`frame ${i}`);
    });
  }
});

test('encoder: coalesceLimit moves the copy/zero-copy boundary', () => {
  const enc = new FrameEncoder({ role: 'server', coalesceLimit: 0 });
  const payload = Uint8Array.of(1, 2, 3);
  const out: Uint8Array[] = [];
  enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload }, out);
  assert.is(out.length, 2);
  assert.is(out[1], payload);
  const big: Uint8Array[] = [];
  new FrameEncoder({ role: 'server', coalesceLimit: 1 << 20 }).encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload: new Uint8Array(100_000) }, big);
  assert.is(big.length, 1);
  assert.throws(() => new FrameEncoder({ role: 'server', coalesceLimit: -1 }), RangeError);
});

test('encoder: client masking of every size matches the definition (inline, scalar and wasm paths)', () => {
  const keys = { fill(t: Uint8Array, o: number) { t.set([0xa1, 0xb2, 0xc3, 0xd4], o); } };
  const enc = new FrameEncoder({ role: 'client', maskKeys: keys });
  for (const n of [0, 1, 2, 3, 4, 5, 63, 64, 65, 100, 160, 161, 255, 256, 257, 1000, 70_000]) {
    const payload = randomBytes(n, n + 3);
    const out: Uint8Array[] = [];
    enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload }, out);
    const wire = out[0]!;
    const hlen = wire.length - n;
    assert.equal(Array.from(wire.subarray(hlen - 4, hlen)), [0xa1, 0xb2, 0xc3, 0xd4]);
    const key = [0xa1, 0xb2, 0xc3, 0xd4];
    for (let i = 0; i < n; i++) if (wire[hlen + i] !== (payload[i]! ^ key[i & 3]!)) assert.unreachable(`n ${n} byte ${i}`);
  }
});

test('encoder: client masks with a fresh key per frame and never mutates the payload', () => {
  const enc = new FrameEncoder({ role: 'client' });
  const payload = new Uint8Array(100_000).fill(0x41);
  const a: Uint8Array[] = [];
  const b: Uint8Array[] = [];
  enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload }, a);
  enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload }, b);
  assert.is(a.length, 1);
  assert.ok((a[0]![1]! & 0x80) !== 0);
  assert.not.equal(Array.from(a[0]!.subarray(10, 14)), Array.from(b[0]!.subarray(10, 14)));
  assert.ok(payload.every((x) => x === 0x41));
  const out: Frame[] = [];
  new FrameDecoder({ role: 'server' }).push(a[0]!, out);
  assert.ok(out[0]!.payload.every((x) => x === 0x41));
});

test('encoder refuses frames RFC 6455 forbids sending', () => {
  const enc = new FrameEncoder({ role: 'server' });
  const f = (opcode: number, n: number, fin = true): Frame => ({ fin, rsv1: false, rsv2: false, rsv3: false, opcode, payload: new Uint8Array(n) });
  assert.throws(() => enc.encode(f(9, 126), []), RangeError);
  assert.throws(() => enc.encode(f(8, 0, false), []), RangeError);
  assert.throws(() => enc.encode(f(3, 0), []), RangeError);
  assert.throws(() => new FrameEncoder({ role: 'x' as 'client' }), TypeError);
  assert.throws(() => new FrameDecoder({ role: 'x' as 'client' }), TypeError);
});

test.run();
