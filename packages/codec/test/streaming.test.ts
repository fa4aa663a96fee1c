// Streamed messages: a payload produced piece by piece goes through encoder and decoder with memory bounded by the
// queues' high-water marks, never by the message size. Memory is measured as bytes produced minus bytes consumed
// (what the pipeline holds), not RSS, so the check is exact and runtime-independent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReadableStream } from '@web-std/stream';
import {
  WebSocketDecoderStream,
  WebSocketEncoderStream,
  MessageDecoderStream,
  FrameDecoderStream,
  type IncomingMessage,
  type MessageChunk,
  type OutgoingMessage,
} from '../src/index.js';
import { cframe, collect, fromChunks, decodeSync } from './_helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Run {
  total: number;
  maxHeld: number;
  chunks: number;
  firsts: number;
  lasts: number;
  ok: boolean;
}

async function pump(role: 'client' | 'server', total: number, piece: number): Promise<Run> {
  let produced = 0;
  let consumed = 0;
  let maxHeld = 0;
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let i = 0; produced < total; i++) {
      const n = Math.min(piece, total - produced);
      const b = new Uint8Array(n).fill(i & 0xff);
      produced += n;
      maxHeld = Math.max(maxHeld, produced - consumed);
      yield b;
    }
  }
  const msgs = fromChunks<OutgoingMessage>([{ type: 'binary', data: source() }]);
  const peer = role === 'client' ? 'server' : 'client';
  const out = msgs
    .pipeThrough(new WebSocketEncoderStream({ role }))
    .pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: peer, streamMessages: true, maxMessageSize: Infinity }));
  const reader = out.getReader();
  const run: Run = { total: 0, maxHeld: 0, chunks: 0, firsts: 0, lasts: 0, ok: true };
  let expectedIndex = 0;
  let inPiece = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    const m = r.value as MessageChunk;
    if (m.type !== 'chunk' || m.kind !== 'binary') run.ok = false;
    run.chunks++;
    if (m.first) run.firsts++;
    if (m.last) run.lasts++;
    // Content check: piece i is filled with i & 0xff; a chunk may span piece boundaries only in the client case.
    for (let j = 0; j < m.data.length; j += 4093) {
      const pos = run.total + j;
      if (m.data[j] !== (Math.floor(pos / piece) & 0xff)) run.ok = false;
    }
    void expectedIndex;
    void inPiece;
    run.total += m.data.length;
    consumed += m.data.length;
  }
  run.maxHeld = maxHeld;
  return run;
}

test('256 MiB binary message streamed server -> client in 64 KiB pieces with bounded memory', async () => {
  const r = await pump('server', 256 * MiB, 64 * KiB);
  assert.ok(r.ok, 'content');
  assert.is(r.total, 256 * MiB);
  assert.is(r.firsts, 1);
  assert.is(r.lasts, 1);
  assert.ok(r.maxHeld <= 1 * MiB, `held at most ${r.maxHeld} bytes`);
});

test('32 MiB binary message streamed client -> server (masked) with bounded memory', async () => {
  const r = await pump('client', 32 * MiB, 48 * KiB);
  assert.ok(r.ok, 'content');
  assert.is(r.total, 32 * MiB);
  assert.is(r.firsts, 1);
  assert.is(r.lasts, 1);
  assert.ok(r.maxHeld <= 1 * MiB, `held at most ${r.maxHeld} bytes`);
});

test('a single 8 MiB frame arriving in 16 KiB chunks is delivered piece by piece (never buffered whole)', async () => {
  const payload = new Uint8Array(8 * MiB).fill(7);
  const wire = cframe({ opcode: 2, payload });
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < wire.length; o += 16 * KiB) chunks.push(wire.slice(o, o + 16 * KiB));
  const got = await collect(fromChunks(chunks).pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: 'server', streamMessages: true })));
  assert.ok(got.length > 500);
  let total = 0;
  for (const m of got) {
    assert.is(m.type, 'chunk');
    const c = m as MessageChunk;
    assert.ok(c.data.length <= 16 * KiB);
    total += c.data.length;
  }
  assert.is(total, 8 * MiB);
  assert.ok((got[0] as MessageChunk).first && (got[got.length - 1] as MessageChunk).last);
});

test('streamed text: string pieces with surrogate pairs split across pieces, and byte pieces', async () => {
  const pieces = ['ab\uD83D', '\uDE00c', 'd\uD83D', '\uDE01'];
  const wire = await collect(fromChunks<OutgoingMessage>([{ type: 'text', data: pieces }]).pipeThrough(new WebSocketEncoderStream({ role: 'server' })));
  const r = decodeSync(wire, { role: 'client' });
  assert.equal(r.messages, [{ type: 'text', data: 'ab😀cd😁' }]);
  const bytes = new TextEncoder().encode('é😀');
  const wire2 = await collect(
    fromChunks<OutgoingMessage>([{ type: 'text', data: [bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)] }]).pipeThrough(
      new WebSocketEncoderStream({ role: 'client' }),
    ),
  );
  assert.equal(decodeSync(wire2).messages, [{ type: 'text', data: 'é😀' }]);
});

test('streamed payload sources: ReadableStream, sync iterable, empty source, fragmentSize splitting', async () => {
  const rs = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(Uint8Array.of(1, 2, 3));
      c.enqueue(Uint8Array.of(4, 5));
      c.close();
    },
  });
  const msgs: OutgoingMessage[] = [
    { type: 'binary', data: rs },
    { type: 'binary', data: [Uint8Array.of(6), new Uint8Array(0), Uint8Array.of(7)] },
    { type: 'binary', data: [] },
    { type: 'text', data: [] },
  ];
  const wire = await collect(fromChunks(msgs).pipeThrough(new WebSocketEncoderStream({ role: 'server', fragmentSize: 2 })));
  const r = decodeSync(wire, { role: 'client' });
  assert.equal(
    r.messages.map((m) => ('data' in m && m.data instanceof Uint8Array ? Array.from(m.data) : m)),
    [[1, 2, 3, 4, 5], [6, 7], [], { type: 'text', data: '' }],
  );
});

test('streamed payload errors: bad piece types and invalid UTF-8 reject; the source is cancelled', async () => {
  let cancelled = false;
  const rs = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue('oops' as unknown as Uint8Array);
    },
    cancel() {
      cancelled = true;
    },
  });
  const bad: OutgoingMessage[] = [
    { type: 'binary', data: rs },
    { type: 'binary', data: ['str'] as unknown as Uint8Array[] },
    { type: 'text', data: [Uint8Array.of(0xff)] },
    { type: 'text', data: [Uint8Array.of(0xc3)] },
    { type: 'binary', data: 42 as unknown as Uint8Array[] },
  ];
  for (const m of bad) {
    try {
      await collect(fromChunks([m]).pipeThrough(new WebSocketEncoderStream({ role: 'server' })));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, TypeError);
    }
  }
  assert.ok(cancelled);
});

test('cancelling the encoder readable mid-payload stops the writer and cancels the streamed source', async () => {
  let cancelled = false;
  let pulls = 0;
  const src = new ReadableStream<Uint8Array>({
    pull(c) {
      pulls++;
      c.enqueue(new Uint8Array(32 * 1024));
    },
    cancel() {
      cancelled = true;
    },
  });
  const enc = new WebSocketEncoderStream({ role: 'server' });
  const w = enc.writable.getWriter();
  const written = w.write({ type: 'binary', data: src }).then(
    () => 'resolved',
    () => 'rejected',
  );
  const r = enc.readable.getReader();
  await r.read();
  await r.cancel('bye');
  const outcome = await Promise.race([written, new Promise((res) => globalThis.setTimeout(() => res('hung'), 2000))]);
  assert.is(outcome, 'rejected');
  assert.ok(cancelled, 'source cancelled');
  assert.ok(pulls < 20);
});

test('streamMessages with MessageDecoderStream over FrameDecoderStream (splitFrames)', async () => {
  const payload = new Uint8Array(100_000).fill(3);
  const wire = cframe({ opcode: 2, payload });
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < wire.length; o += 10_000) chunks.push(wire.slice(o, o + 10_000));
  const got = await collect(
    fromChunks(chunks)
      .pipeThrough(new FrameDecoderStream({ role: 'server', splitFrames: true }))
      .pipeThrough(new MessageDecoderStream<IncomingMessage>({ role: 'server', streamMessages: true })),
  );
  assert.ok(got.length >= 10);
  assert.is(got.reduce((n, m) => n + (m as MessageChunk).data.length, 0), 100_000);
});

test.run();
