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
 * How RSS may grow, as garbage-collection heuristics allow: the queues' high-water marks hold a few hundred KiB, but
 * each runtime's collector lets the heap grow by its own amount before collecting (measured for 1 GiB: +47 MiB in
 * Node 20, +70 MiB in Bun, +99 MiB in Deno, +110 to +141 MiB in Node 24). So the test asserts what survives any collector:
 * a message 8 times larger raises the peak by less than STREAM_SCALE_BOUND (memory does not follow the message;
 * measured: 1 to 51 MiB), and no peak comes near the message (under a quarter of it).
 */
export const STREAM_SCALE_BOUND = 96 * MiB;

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
    try {
      const ws = a.connect(server.url, { streamMessages: true, maxMessageSize: Infinity });
      const { readable, writable } = await within(5000, ws.opened, 'opened');
      const w = writable.getWriter();
      const r = readable.getReader();
      const base = a.rss();

      /** Sends a `bytes`-long message through the echo and reads it back; the peak RSS growth meanwhile. */
      const roundTrip = async (bytes: number): Promise<{ grew: number; secs: number }> => {
        let peak = a.rss();
        const sampler = setInterval(() => (peak = Math.max(peak, a.rss())), 20);
        try {
          let produced = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(c) {
              if (produced >= bytes) return c.close();
              c.enqueue(new Uint8Array(PIECE).fill(expected(produced)));
              produced += PIECE;
            },
          }, { highWaterMark: 0 });
          const sent = w.write(body);
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
          await within(10_000, sent, 'the write');
          assert.is(got, bytes, 'every byte came back');
          assert.is(misplaced, 0, 'in order');
          return { grew: peak - base, secs: (Date.now() - t0) / 1000 };
        } finally {
          clearInterval(sampler);
        }
      };
      const small = await roundTrip(size / 8);
      const large = await roundTrip(size);
      const f = (n: number): string => (n / MiB).toFixed(1);
      console.log(`[${name}] ${size / MiB} MiB there and back in ${large.secs.toFixed(1)} s; RSS ${f(base)} MiB, peak +${f(large.grew)} MiB (+${f(small.grew)} MiB for ${size / 8 / MiB} MiB)`);
      assert.ok(large.grew - small.grew < STREAM_SCALE_BOUND, `8 times the message raised the RSS peak by ${f(large.grew - small.grew)} MiB`);
      assert.ok(large.grew < size / 4, `RSS grew ${f(large.grew)} MiB for a ${size / MiB} MiB message`);

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
      await within(8000, server.close(), 'server close');
    }
  });
  s.run();
}
