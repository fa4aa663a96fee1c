/**
 * One message as a stream over real TCP through an adapter (streamMessages; issue 12): a binary message of `size`
 * bytes goes from the adapter's client to its serve() echo and back, each side with `maxMessageSize: Infinity`, and
 * the process's RSS stays bounded by the high-water marks instead of growing with the message. Both ends run in the
 * test's process, so the bound covers both. Runtime-agnostic: the node, deno and bun packages run this one copy.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './pair-suite.js';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;
/**
 * RSS growth allowed by default: the queues' high-water marks hold a few hundred KiB; the rest is the garbage
 * collector's headroom (Node and Bun grow about 46 MiB whatever the message's size).
 */
export const STREAM_RSS_BOUND = 96 * MiB;

type Piece = string | Uint8Array;
interface Streamed { type: 'text' | 'binary'; stream: ReadableStream<Piece> }
interface Opened { readable: ReadableStream<Streamed>; writable: WritableStream<unknown> }
interface AdapterStream { opened: Promise<Opened>; closed: Promise<{ closeCode: number }>; close(info?: { closeCode?: number }): void }
/** The part of an adapter this suite drives. */
export interface StreamAdapter {
  serve(options: Record<string, unknown>, handler: (ws: AdapterStream) => unknown): { url: string; ready?: Promise<unknown>; close(): Promise<void> };
  connect(url: string, options: Record<string, unknown>): AdapterStream;
  /** The process's resident set size, in bytes. */
  rss(): number;
  /** RSS growth allowed (default STREAM_RSS_BOUND). */
  rssBound?: number;
}

/** The byte at offset `i` of the message: the index of its 256 KiB piece (so misplaced pieces are caught). */
const expected = (i: number): number => Math.floor(i / PIECE) & 255;

export function streamSuite(name: string, a: StreamAdapter, size: number): void {
  const s = suite(name);
  s(`a ${size / MiB} MiB message streams to serve() and back with RSS bounded by the high-water marks; text pieces too`, async () => {
    const server = a.serve({ hostname: '127.0.0.1', port: 0, streamMessages: true, maxMessageSize: Infinity }, async (ws) => {
      const { readable, writable } = await ws.opened;
      // An echo is a pipe: what the readable yields ({ type, stream }) the writable sends piece by piece.
      await readable.pipeTo(writable).catch(() => {});
    });
    await server.ready;
    let sampler: ReturnType<typeof setInterval> | undefined;
    try {
      const ws = a.connect(server.url, { streamMessages: true, maxMessageSize: Infinity });
      const { readable, writable } = await within(5000, ws.opened, 'opened');
      const base = a.rss();
      let peak = base;
      sampler = setInterval(() => (peak = Math.max(peak, a.rss())), 20);

      let produced = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (produced >= size) return c.close();
          c.enqueue(new Uint8Array(PIECE).fill(expected(produced)));
          produced += PIECE;
        },
      }, { highWaterMark: 0 });
      const w = writable.getWriter();
      const sent = w.write(body);
      const r = readable.getReader();
      const m = (await within(10_000, r.read(), 'the echoed message')).value!;
      assert.is(m.type, 'binary');
      let got = 0;
      let misplaced = 0;
      const pieces = m.stream.getReader();
      const t0 = Date.now();
      for (;;) {
        const x = await within(10_000, pieces.read(), 'the next piece');
        if (x.done) break;
        const v = x.value as Uint8Array;
        if (v[0] !== expected(got) || v[v.byteLength - 1] !== expected(got + v.byteLength - 1)) misplaced++;
        got += v.byteLength;
      }
      const secs = (Date.now() - t0) / 1000;
      await within(10_000, sent, 'the write');
      clearInterval(sampler);
      const grew = peak - base;
      const bound = a.rssBound ?? STREAM_RSS_BOUND;
      console.log(`[${name}] ${size / MiB} MiB there and back in ${secs.toFixed(1)} s; RSS ${(base / MiB).toFixed(0)} -> peak ${(peak / MiB).toFixed(0)} MiB (+${(grew / MiB).toFixed(1)}, bound ${bound / MiB})`);
      assert.is(got, size, 'every byte came back');
      assert.is(misplaced, 0, 'in order');
      assert.ok(grew < bound, `RSS grew ${(grew / MiB).toFixed(1)} MiB`);

      // Text: string pieces and UTF-8 split inside a code point come back as the same text.
      const euro = new TextEncoder().encode('€');
      const parts: Piece[] = ['a😀', euro.subarray(0, 2), euro.subarray(2), 'z'];
      await w.write({ type: 'text', stream: new ReadableStream<Piece>({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } }) });
      const t = (await within(5000, r.read(), 'the echoed text')).value!;
      assert.is(t.type, 'text');
      let text = '';
      for (const tr = t.stream.getReader(); ;) {
        const x = await within(5000, tr.read(), 'a text piece');
        if (x.done) break;
        text += x.value as string;
      }
      assert.is(text, 'a😀€z');
      ws.close({ closeCode: 1000 });
      assert.is((await within(5000, ws.closed, 'closed')).closeCode, 1000);
    } finally {
      clearInterval(sampler);
      await within(8000, server.close(), 'server close');
    }
  });
  s.run();
}
