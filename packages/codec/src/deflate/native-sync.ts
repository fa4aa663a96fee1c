/**
 * Synchronous calls into a *persistent* zlib stream, for small messages with context takeover.
 *
 * Why: a zlib stream works on the libuv threadpool, so each message costs a round trip (25-45 µs measured), while
 * the one-shot synchronous functions (5-12 µs) cannot keep the LZ77 window between messages. Node's zlib streams
 * carry a native handle whose `writeSync(flush, in, inOff, inLen, out, outOff, outLen)` runs one zlib call
 * synchronously and reports the remaining output and input space in the stream's `_writeState` — the very pair
 * Node's own `zlib.*Sync` functions use (lib/zlib.js `processChunkSync`), present in Node >= 10 and in Deno's and
 * Bun's node:zlib. These are internals, so they are only used after `nativeSyncWorks()` proved, once per zlib
 * module, that they behave as expected (context kept across calls, data errors detected); everywhere else the
 * public stream API is used. The stream's own async machinery is never running at the same time (each direction
 * is a serial queue), and our calls use their own output buffer, not the stream's.
 */
import type { ZlibModule, ZlibStream } from './zlib.js';

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}
interface StreamInternals { _handle?: NativeHandle | null; _writeState?: Uint32Array }

/** One synchronous zlib call sequence on a stream's native handle. */
export class NativeSync {
  private readonly out: Uint8Array;

  private constructor(private readonly stream: ZlibStream, private readonly handle: NativeHandle, private readonly state: Uint32Array, chunkSize: number) {
    this.out = new Uint8Array(chunkSize);
  }

  /** The synchronous view of `stream`, or null when its internals are not there. */
  static of(stream: ZlibStream, chunkSize: number): NativeSync | null {
    const s = stream as unknown as StreamInternals;
    const h = s._handle;
    const state = s._writeState;
    if (!h || typeof h.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) return null;
    return new NativeSync(stream, h, state, chunkSize);
  }

  /**
   * Feeds all of `input` with `flush`, handing each piece of output (a copy, at most chunkSize bytes) to `sink`;
   * `sink` returns false to stop early. Returns the number of input bytes zlib did not consume (> 0 only when the
   * DEFLATE stream ended, or when stopped). Throws the stream's error when zlib reports one (the stream is then
   * destroyed, as Node's error handler does).
   */
  run(input: Uint8Array, flush: number, sink: (piece: Uint8Array) => boolean): number {
    const out = this.out;
    const size = out.length;
    let inOff = 0;
    let inLen = input.length;
    // A closed native handle must never be called (Node asserts in C++): refuse before touching it.
    if (this.stream.destroyed) throw this.stream.errored ?? new Error('zlib stream destroyed');
    for (;;) {
      this.handle.writeSync(flush, input, inOff, inLen, out, 0, size);
      if (this.stream.destroyed) throw this.stream.errored ?? new Error('zlib reported an error');
      const availOut = this.state[0]!;
      const availIn = this.state[1]!;
      inOff += inLen - availIn;
      inLen = availIn;
      const produced = size - availOut;
      if (produced > 0 && !sink(out.slice(0, produced))) return inLen;
      // Output space left over means zlib had nothing more to give for this input (consumed, or stream ended).
      if (availOut !== 0) return inLen;
    }
  }
}

const verdicts = new WeakMap<ZlibModule, boolean>();

/**
 * Whether `NativeSync` works with this zlib: two messages through one deflate handle with context takeover, back
 * through one inflate handle, must round-trip (the second one much smaller), and junk must throw. Cached per module.
 */
export function nativeSyncWorks(z: ZlibModule): boolean {
  let ok = verdicts.get(z);
  if (ok !== undefined) return ok;
  const streams: ZlibStream[] = [];
  const open = (s: ZlibStream): ZlibStream => { s.on('error', () => {}); streams.push(s); return s; };
  try {
    const flush = z.constants.Z_SYNC_FLUSH;
    const def = NativeSync.of(open(z.createDeflateRaw({ windowBits: 15 })), 1024);
    const inf = NativeSync.of(open(z.createInflateRaw({ windowBits: 15 })), 1024);
    const bad = NativeSync.of(open(z.createInflateRaw({ windowBits: 15 })), 1024);
    if (!def || !inf || !bad) {
      ok = false;
    } else {
      const msg = new TextEncoder().encode('permessage-deflate self-test, permessage-deflate self-test');
      const run = (n: NativeSync, input: Uint8Array): Uint8Array => {
        const parts: Uint8Array[] = [];
        n.run(input, flush, (p) => { parts.push(p); return true; });
        const all = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
        let o = 0;
        for (const p of parts) { all.set(p, o); o += p.length; }
        return all;
      };
      const c1 = run(def, msg);
      const c2 = run(def, msg);
      const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
      ok = c2.length < c1.length / 2 && same(run(inf, c1), msg) && same(run(inf, c2), msg);
      if (ok) {
        try {
          run(bad, new Uint8Array([0xff, 0xff, 0xff, 0x00, 0x12, 0x00, 0x00, 0xff, 0xff]));
          ok = false; // junk accepted: errors would go unnoticed
        } catch {
          // expected
        }
      }
    }
  } catch {
    ok = false;
  } finally {
    for (const s of streams) s.destroy();
  }
  verdicts.set(z, ok);
  return ok;
}
