// takeOwnedBuffer(): which decoded payloads may be handed out as an ArrayBuffer without a copy. Only buffers the
// decoder allocated for one payload alone (a frame spanning chunks, a fragmented message's join); never a view of a
// chunk, even one spanning the chunk's whole buffer; each at most once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CodecError, FrameDecoder, MessageAssembler, finishInflated, takeOwnedBuffer, OWNED_MIN, type IncomingMessage } from '../src/index.js';
import { frame, concatBytes } from './_helpers.js';

function decoder() {
  const dec = new FrameDecoder({ role: 'client' });
  const asm = new MessageAssembler({ maxMessageSize: 1 << 24, deflate: false, streamMessages: false, trusted: true });
  const feed = (chunk: Uint8Array): Uint8Array[] => {
    dec.decode(chunk, asm);
    const out = (asm.out as IncomingMessage[]).splice(0).map((m) => (m as { data: Uint8Array }).data);
    return out;
  };
  return feed;
}

const payload = (n: number, v: number) => new Uint8Array(n).fill(v);

test('a frame spanning chunks: the decoder buffer is taken once, exactly the payload', () => {
  const feed = decoder();
  const wire = frame({ opcode: 2, payload: payload(5000, 7) });
  assert.equal(feed(wire.slice(0, 1000)), []);
  const [m] = feed(wire.slice(1000));
  const b = takeOwnedBuffer(m!);
  assert.ok(b instanceof ArrayBuffer);
  assert.is(b!.byteLength, 5000);
  assert.ok(new Uint8Array(b!).every((x) => x === 7));
  assert.is(takeOwnedBuffer(m!), null, 'a second taker gets null');
});

test("a frame whole in one chunk is a view of the chunk: never taken, even when it is the chunk's whole buffer", () => {
  const feed = decoder();
  const wire = frame({ opcode: 2, payload: payload(5000, 1) });
  const [m] = feed(wire);
  assert.is(takeOwnedBuffer(m!), null);
  const head = wire.slice(0, 4); // 2-byte header + 16-bit length
  const body = wire.slice(4); // a chunk that is exactly the payload
  assert.equal(feed(head), []);
  const [m2] = feed(body);
  assert.is(m2!.buffer, body.buffer, 'the payload is the chunk itself');
  assert.is(takeOwnedBuffer(m2!), null);
});

test('a fragmented message joined by the assembler is its own; small payloads are never marked', () => {
  const feed = decoder();
  const wire = concatBytes([
    frame({ opcode: 2, fin: false, payload: payload(3000, 1) }),
    frame({ opcode: 0, fin: true, payload: payload(3000, 2) }),
  ]);
  const [m] = feed(wire);
  const b = takeOwnedBuffer(m!);
  assert.ok(b !== null);
  assert.is(b!.byteLength, 6000);
  assert.equal([new Uint8Array(b!)[0], new Uint8Array(b!)[5999]], [1, 2]);
  const small = frame({ opcode: 2, payload: payload(OWNED_MIN - 1, 3) });
  assert.equal(feed(small.slice(0, 10)), []);
  const [s] = feed(small.slice(10));
  assert.is(takeOwnedBuffer(s!), null);
});

test('finishInflated: a message joined from inflated parts is its own buffer; a single part is not marked', () => {
  const got: IncomingMessage[] = [];
  const emit = (m: IncomingMessage): void => void got.push(m);
  finishInflated('binary', [payload(3000, 1), payload(3000, 2)], false, null, emit);
  const joined = (got[0] as { data: Uint8Array }).data;
  assert.is(joined.byteLength, 6000);
  assert.is(joined[2999], 1);
  assert.is(joined[3000], 2);
  const b = takeOwnedBuffer(joined);
  assert.ok(b instanceof ArrayBuffer && b.byteLength === 6000, 'joined here: handed out without a copy');
  finishInflated('binary', [payload(6000, 3)], false, null, emit);
  assert.is(takeOwnedBuffer((got[1] as { data: Uint8Array }).data), null, 'one part: the inflater\'s, not marked here');
});

test('finishInflated: text is decoded and checked in one pass (BOM kept), streamed text piece by piece; bad UTF-8 is 1007', () => {
  const got: IncomingMessage[] = [];
  const emit = (m: IncomingMessage): void => void got.push(m);
  const enc = new TextEncoder();
  finishInflated('text', [new Uint8Array([0xef, 0xbb, 0xbf]), enc.encode('héllo')], false, null, emit);
  assert.equal(got[0], { type: 'text', data: '\ufeffhéllo' });
  // Streamed: a code point split between the pieces is fine, the pieces come out as they are.
  const e = enc.encode('é');
  finishInflated('text', [new Uint8Array([0x61, e[0]!]), new Uint8Array([e[1]!])], true, null, emit);
  assert.equal(got.slice(1).map((m) => (m as { first: boolean; last: boolean }).first), [true, false]);
  assert.equal(got.slice(1).map((m) => (m as { last: boolean }).last), [false, true]);
  for (const stream of [false, true]) {
    try {
      finishInflated('text', [new Uint8Array([0x61, 0xc3]), new Uint8Array([0x28])], stream, null, emit);
      assert.unreachable('invalid UTF-8 must throw');
    } catch (err) {
      assert.instance(err, CodecError);
      assert.is((err as CodecError).closeCode, 1007);
    }
  }
  try {
    finishInflated('text', [new Uint8Array([0x61, 0xc3])], true, null, emit);
    assert.unreachable('a streamed text ending inside a code point must throw');
  } catch (err) {
    assert.is((err as CodecError).closeCode, 1007);
  }
});

test.run();
