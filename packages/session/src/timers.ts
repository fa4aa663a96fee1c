/**
 * One shared timer for every connection: a binary min-heap of deadlines and a
 * single host `setTimeout` armed for the earliest one. A connection with no
 * timeout in force holds no timer at all; one with keepalive/idle holds one
 * small heap entry instead of a host timer plus a closure.
 *
 * Activity (a message in or out) does NOT touch the heap: connections record a
 * timestamp, and when the entry fires they re-check and re-arm for the
 * remainder. So the hot path costs one `Date.now()` read, not a heap update.
 */

export interface TimerTarget {
  /** Called when a timer of this target expires; `kind` is the value given to `schedule`. */
  onTimer(kind: number, now: number): void;
}

export class TimerEntry {
  /** Heap position, -1 when not scheduled. */
  index = -1;
  constructor(
    public at: number,
    public readonly target: TimerTarget,
    public readonly kind: number,
  ) {}
  get active(): boolean {
    return this.index >= 0;
  }
}

type HostTimer = ReturnType<typeof globalThis.setTimeout>;

/** Expirations handled per host timer callback before yielding to I/O (see run()). */
const MAX_PER_RUN = 128;

export class TimerQueue {
  private heap: TimerEntry[] = [];
  private host: HostTimer | undefined;
  private hostAt = Infinity;
  private readonly fire = (): void => this.run();

  /** Entries currently scheduled (for tests and introspection). */
  get size(): number {
    return this.heap.length;
  }

  schedule(target: TimerTarget, kind: number, delayMs: number): TimerEntry {
    const e = new TimerEntry(Date.now() + delayMs, target, kind);
    this.push(e);
    return e;
  }

  /** Moves an existing entry (reusing the object: no allocation for re-arms). */
  reschedule(e: TimerEntry, delayMs: number): void {
    if (e.active) this.remove(e);
    e.at = Date.now() + delayMs;
    this.push(e);
  }

  cancel(e: TimerEntry | undefined | null): void {
    if (e && e.active) {
      this.remove(e);
      if (this.heap.length === 0) this.disarm();
    }
  }

  private push(e: TimerEntry): void {
    const h = this.heap;
    e.index = h.length;
    h.push(e);
    this.up(e.index);
    this.arm();
  }

  private remove(e: TimerEntry): void {
    const h = this.heap;
    const i = e.index;
    const last = h.pop()!;
    e.index = -1;
    if (last !== e) {
      h[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  private arm(): void {
    const first = this.heap[0];
    if (!first) return this.disarm();
    if (this.host !== undefined && this.hostAt <= first.at) return;
    if (this.host !== undefined) globalThis.clearTimeout(this.host);
    this.hostAt = first.at;
    this.host = globalThis.setTimeout(this.fire, Math.max(0, first.at - Date.now()));
  }

  private disarm(): void {
    if (this.host !== undefined) globalThis.clearTimeout(this.host);
    this.host = undefined;
    this.hostAt = Infinity;
  }

  private run(): void {
    this.host = undefined;
    this.hostAt = Infinity;
    const now = Date.now();
    const h = this.heap;
    // Callbacks may schedule new entries; anything due by `now` still runs this round, up to MAX_PER_RUN: thousands
    // of handshakes that time out together (a slowloris wave) would otherwise hold the event loop for hundreds of
    // milliseconds, and every client arriving meanwhile with it. The rest run on the next turn, after I/O.
    let budget = MAX_PER_RUN;
    for (let first = h[0]; first !== undefined && first.at <= now; first = h[0]) {
      if (budget-- === 0) {
        this.hostAt = first.at;
        this.host = globalThis.setTimeout(this.fire, 0);
        return;
      }
      this.remove(first);
      try {
        first.target.onTimer(first.kind, now);
      } catch (err) {
        // A throwing target must not starve the others; surface it asynchronously.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    this.arm();
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (pe.at <= e.at) break;
      h[i] = pe;
      pe.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.at < h[l]!.at ? r : l;
      const ce = h[c]!;
      if (e.at <= ce.at) break;
      h[i] = ce;
      ce.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}

/** The process-wide queue every connection uses. */
export const timers = new TimerQueue();
