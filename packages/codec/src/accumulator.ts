import { markOwned } from './owned.js';

/**
 * Collects the fragments of one message. A few fragments are kept as views (no copy; joined once at the end), but a
 * message arriving as very many small fragments switches to one growing buffer: otherwise a peer sending a 64 MiB
 * message as 1-byte fragments would make us hold 64 million view objects, many times the message size. Empty
 * fragments are dropped (they would otherwise cost memory without counting against the size limit).
 *
 * Memory: at most about twice the message size (the growing buffer doubles), bounded by the message limit.
 */
const MAX_VIEWS = 16;
const MIN_BUFFER = 16 * 1024;

export class ByteAccumulator {
  private views: Uint8Array[] = [];
  private buf: Uint8Array | null = null;
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  push(p: Uint8Array): void {
    const n = p.length;
    if (n === 0) return;
    let buf = this.buf;
    if (buf === null) {
      if (this.views.length < MAX_VIEWS) {
        this.views.push(p);
        this.length += n;
        return;
      }
      buf = this.grow(this.length + n);
    } else if (this.length + n > buf.length) {
      buf = this.grow(this.length + n);
    }
    buf.set(p, this.length);
    this.length += n;
  }

  /** The collected bytes as parts (views, or one buffer), then resets. */
  takeParts(): Uint8Array[] {
    const out = this.buf !== null ? [this.buf.subarray(0, this.length)] : this.views;
    this.reset();
    return out;
  }

  /** The collected bytes as one Uint8Array (a view when there is a single part), then resets. */
  takeBytes(): Uint8Array {
    let out: Uint8Array;
    if (this.buf !== null) {
      out = this.buf.subarray(0, this.length);
      markOwned(out); // when the growing buffer came out exactly full
    } else if (this.views.length === 1) out = this.views[0]!;
    else {
      out = new Uint8Array(this.length);
      let o = 0;
      for (const v of this.views) {
        out.set(v, o);
        o += v.length;
      }
      markOwned(out);
    }
    this.reset();
    return out;
  }

  reset(): void {
    this.views = [];
    this.buf = null;
    this.length = 0;
  }

  private grow(need: number): Uint8Array {
    const old = this.buf;
    let cap = old !== null ? old.length * 2 : Math.max(MIN_BUFFER, need * 2);
    if (cap < need) cap = need * 2;
    const next = new Uint8Array(cap);
    if (old !== null) next.set(old.subarray(0, this.length), 0);
    else {
      let o = 0;
      for (const v of this.views) {
        next.set(v, o);
        o += v.length;
      }
      this.views = [];
    }
    this.buf = next;
    return next;
  }
}
