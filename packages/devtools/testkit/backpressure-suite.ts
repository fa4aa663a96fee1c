/**
 * End-to-end backpressure through an adapter: a side that stops reading messages makes the other side's writer
 * wait (session queue -> binding -> kernel buffers -> TCP window), in both directions, with bounded memory; once
 * reading resumes every message arrives in order. Runtime-agnostic: packages/deno/test and packages/bun/test run
 * this one copy against their adapter's `serve()` and `connect()`.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './pair-suite.js';

interface Opened { readable: ReadableStream<string | Uint8Array>; writable: WritableStream<string | Uint8Array> }
interface AdapterStream { opened: Promise<Opened>; closed: Promise<{ closeCode: number }>; close(): void }
/** The part of an adapter (`@streamsocket/deno`, `@streamsocket/bun`) this suite drives. */
export interface BackpressureAdapter {
  serve(options: { hostname: string; port: number }, handler: (ws: AdapterStream) => unknown): { url: string; close(): Promise<void> };
  connect(url: string): AdapterStream;
}

const T = 10_000;
const MSG = 256 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes numbered MSG-byte messages as fast as the writer lets it; `written` counts accepted messages. */
function flood(writable: WritableStream<string | Uint8Array>) {
  const w = writable.getWriter();
  const state = { written: 0, stop: false, done: Promise.resolve() };
  state.done = (async () => {
    try {
      while (!state.stop) {
        await w.ready;
        if (state.stop) break;
        const m = new Uint8Array(MSG);
        new DataView(m.buffer).setUint32(0, state.written);
        void w.write(m).catch(() => {});
        state.written++;
      }
    } catch {
      /* closed */
    } finally {
      w.releaseLock();
    }
  })();
  return state;
}

/** Waits until `count()` stops changing for 300 ms; returns the value. */
async function stalled(count: () => number): Promise<number> {
  let last = -1;
  for (;;) {
    await sleep(300);
    const n = count();
    if (n === last) return n;
    last = n;
  }
}

async function readInOrder(readable: ReadableStream<string | Uint8Array>, n: number): Promise<void> {
  const r = readable.getReader();
  for (let i = 0; i < n; i++) {
    const { value } = await r.read();
    const b = value as Uint8Array;
    assert.is(b.byteLength, MSG);
    assert.is(new DataView(b.buffer, b.byteOffset).getUint32(0), i, `message ${i} out of order`);
  }
  r.releaseLock();
}

export function backpressureSuite(name: string, { serve, connect }: BackpressureAdapter): void {
  const s = suite(name);

  s('a client that does not read stalls the server writer (bounded), then everything arrives', async () => {
    let flooding: ReturnType<typeof flood> | undefined;
    const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
      flooding = flood((await ws.opened).writable);
    });
    try {
      const ws = connect(server.url);
      const { readable } = await within(T, ws.opened, 'open');
      await within(T, (async () => { while (!flooding) await sleep(5); })(), 'server flooding');
      const n = await within(T, stalled(() => flooding!.written), 'server writer stalls');
      assert.ok(n * MSG < 64 * 1024 * 1024, `server queued ${(n * MSG) >> 20} MiB into a non-reading client`);
      await within(T, readInOrder(readable, n), 'reading resumes');
      flooding!.stop = true;
      ws.close();
      const c = await within(T, ws.closed, 'closed');
      assert.is(c.closeCode, 1005);
    } finally {
      await server.close();
    }
  });

  s('a server that does not read stalls the client writer (bounded), then everything arrives', async () => {
    let readable: ReadableStream<string | Uint8Array> | undefined;
    const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
      readable = (await ws.opened).readable;
    });
    try {
      const ws = connect(server.url);
      const { writable } = await within(T, ws.opened, 'open');
      const f = flood(writable);
      const n = await within(T, stalled(() => f.written), 'client writer stalls');
      assert.ok(n * MSG < 64 * 1024 * 1024, `client queued ${(n * MSG) >> 20} MiB into a non-reading server`);
      await within(T, (async () => { while (!readable) await sleep(5); })(), 'server side open');
      await within(T, readInOrder(readable!, n), 'reading resumes');
      f.stop = true;
      // Keep reading what the flood wrote meanwhile: our close frame is queued behind it.
      void readable!.pipeTo(new WritableStream()).catch(() => {});
      ws.close();
      const c = await within(T, ws.closed, 'closed');
      assert.is(c.closeCode, 1005);
    } finally {
      await server.close();
    }
  });

  s.run();
}
