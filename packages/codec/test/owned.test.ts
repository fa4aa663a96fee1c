// takeOwnedBuffer(): which decoded payloads may be handed out as an ArrayBuffer without a copy. Only buffers the
// decoder allocated for one payload alone (a frame spanning chunks, a fragmented message's join); never a view of a
// chunk, even one spanning the chunk's whole buffer; each at most once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameDecoder, MessageAssembler, takeOwnedBuffer, OWNED_MIN, type IncomingMessage } from '../src/index.js';
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

test.run();
