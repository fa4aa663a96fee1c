// Property tests (fast-check): encode-then-decode is the identity over arbitrary messages, fragment sizes and
// chunkings (random split points), masked (client -> server) and unmasked (server -> client); streamed delivery
// concatenates to the same messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  WebSocketDecoderStream,
  WebSocketEncoderStream,
  type IncomingMessage,
  type Message,
  type MessageChunk,
} from '../src/index.js';
import { collect, concatBytes, fromChunks, norm } from './_helpers.js';

const codes = fc.oneof(fc.integer({ min: 1000, max: 1003 }), fc.integer({ min: 1007, max: 1014 }), fc.integer({ min: 3000, max: 4999 }));

const dataMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }).map((data) => ({ type: 'text' as const, data })),
  fc.uint8Array({ maxLength: 3000 }).map((data) => ({ type: 'binary' as const, data })),
  fc.uint8Array({ maxLength: 125 }).map((data) => ({ type: 'ping' as const, data })),
  fc.uint8Array({ maxLength: 125 }).map((data) => ({ type: 'pong' as const, data })),
);

const closeMessage: fc.Arbitrary<Message> = fc
  .record({ code: codes, reason: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) })
  .map(({ code, reason }) => ({ type: 'close' as const, code, reason }));

const scenario = fc.record({
  messages: fc.array(dataMessage, { maxLength: 12 }),
  close: fc.option(closeMessage, { nil: undefined }),
  fragmentSize: fc.option(fc.integer({ min: 1, max: 700 }), { nil: undefined }),
  cuts: fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 30 }),
  clientSends: fc.boolean(),
});

/** Re-splits the wire bytes at the given (cycled) chunk sizes. */
function rechunk(chunks: Uint8Array[], cuts: number[]): Uint8Array[] {
  const all = concatBytes(chunks);
  const out: Uint8Array[] = [];
  for (let o = 0, i = 0; o < all.length; i++) {
    const n = cuts[i % cuts.length]!;
    out.push(all.slice(o, o + n));
    o += n;
  }
  return out;
}

/** Joins MessageChunk runs back into whole messages. */
function joinChunks(list: IncomingMessage[]): IncomingMessage[] {
  const out: IncomingMessage[] = [];
  let parts: Uint8Array[] = [];
  for (const m of list) {
    if (m.type !== 'chunk') {
      out.push(m);
      continue;
    }
    const c = m as MessageChunk;
    parts.push(c.data);
    if (c.last) {
      const data = concatBytes(parts);
      parts = [];
      out.push(c.kind === 'text' ? { type: 'text', data: new TextDecoder().decode(data) } : { type: 'binary', data });
    }
  }
  return out;
}

test('round trip: arbitrary messages, fragment sizes, split points, both directions', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const msgs = s.close ? [...s.messages, s.close] : s.messages;
      const enc = s.clientSends ? 'client' : 'server';
      const dec = s.clientSends ? 'server' : 'client';
      const wire = await collect(
        fromChunks<Message>(msgs).pipeThrough(
          new WebSocketEncoderStream(s.fragmentSize !== undefined ? { role: enc, fragmentSize: s.fragmentSize } : { role: enc }),
        ),
      );
      const got = await collect(fromChunks(rechunk(wire, s.cuts)).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: dec })));
      assert.equal(norm(got), norm(msgs));
    }),
    { numRuns: 150 },
  );
});

test('round trip with streamMessages: chunks concatenate to the original messages', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const enc = s.clientSends ? 'client' : 'server';
      const dec = s.clientSends ? 'server' : 'client';
      const wire = await collect(
        fromChunks<Message>(s.messages).pipeThrough(
          new WebSocketEncoderStream(s.fragmentSize !== undefined ? { role: enc, fragmentSize: s.fragmentSize } : { role: enc }),
        ),
      );
      const got = await collect(
        fromChunks(rechunk(wire, s.cuts)).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: dec, streamMessages: true })),
      );
      assert.equal(norm(joinChunks(got)), norm(s.messages));
    }),
    { numRuns: 100 },
  );
});

// A model-based check of the decoder that does not involve our encoder: random sequences of data messages split
// into random fragments with control frames injected between fragments, built by the hand-written frame() helper.
const fragmentedMessage = fc.record({
  text: fc.boolean(),
  pieces: fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 6 }),
  textPieces: fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 6 }),
  controls: fc.array(fc.option(fc.record({ ping: fc.boolean(), data: fc.uint8Array({ maxLength: 125 }) }), { nil: undefined }), { maxLength: 6 }),
});

test('model: fragmented messages with injected control frames decode exactly (hand-built frames, random chunking)', async () => {
  const { frame, cframe } = await import('./_helpers.js');
  const { FrameDecoder, MessageAssembler } = await import('../src/index.js');
  fc.assert(
    fc.property(fc.array(fragmentedMessage, { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 10 }), fc.boolean(), (msgs, cuts, toServer) => {
      const build = toServer ? cframe : frame;
      const wire: Uint8Array[] = [];
      const want: IncomingMessage[] = [];
      for (const m of msgs) {
        // Text pieces are encoded separately, then cut at arbitrary byte positions (code points may be split).
        const parts = m.text ? (() => {
          const all = new TextEncoder().encode(m.textPieces.join(''));
          const out: Uint8Array[] = [];
          let o = 0;
          for (const p of m.pieces) {
            const n = Math.min(p.length % 17, all.length - o);
            out.push(all.subarray(o, o + n));
            o += n;
          }
          out.push(all.subarray(o));
          return out;
        })() : m.pieces;
        parts.forEach((p, i) => {
          wire.push(build({ opcode: i === 0 ? (m.text ? 1 : 2) : 0, fin: i === parts.length - 1, payload: p }));
          const c = m.controls[i];
          if (c && i < parts.length - 1) {
            wire.push(build({ opcode: c.ping ? 9 : 10, payload: c.data }));
            want.push({ type: c.ping ? 'ping' : 'pong', data: c.data });
          }
        });
        want.push(m.text ? { type: 'text', data: m.textPieces.join('').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') } : { type: 'binary', data: concatBytes(m.pieces) });
      }
      const all = concatBytes(wire);
      const dec = new FrameDecoder({ role: toServer ? 'server' : 'client' });
      const asm = new MessageAssembler({ maxMessageSize: 1 << 20, deflate: false, streamMessages: false, trusted: true });
      for (const c of rechunk([all], cuts)) dec.decode(c, asm);
      assert.equal(norm(asm.out as IncomingMessage[]), norm(want));
    }),
    { numRuns: 300 },
  );
});

test('decoder never throws anything but CodecError on arbitrary bytes', async () => {
  const { FrameDecoder, CodecError } = await import('../src/index.js');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, server) => {
      const dec = new FrameDecoder({ role: server ? 'server' : 'client', maxMessageSize: 1 << 20 });
      try {
        dec.push(bytes, []);
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        if (![1002, 1007, 1009].includes(e.closeCode)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

test.run();
