/**
 * Bounds an opening handshake in time and lets an AbortSignal cancel it.
 * One small object per handshake (it is the timer target and the abort
 * listener itself: no closures), discarded once the handshake settles.
 */
import { HandshakeError } from '@streamsocket/handshake';
import { timers, type TimerEntry, type TimerTarget } from './timers.js';
import type { ByteChannel, ReadResult } from './channel.js';

const noop = (): void => {};

/** What the handshakes read through: the transport's ByteChannel. */
export type ChunkReader = Pick<ByteChannel, 'read' | 'cancel'>;

export class HandshakeGuard implements TimerTarget {
  private entry: TimerEntry | null = null;
  private reader: ChunkReader | null = null;
  private tripHook: ((reason: unknown) => void) | null = null;
  /** Set once the handshake was aborted or timed out. */
  failure: unknown = null;
  /** Aborted on trip: handed to dialers so an in-flight TCP/TLS connect stops too. */
  controller: AbortController | null = null;

  constructor(
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly timeoutStatus: number,
  ) {
    if (signal) {
      if (signal.aborted) this.failure = signal.reason;
      else signal.addEventListener('abort', this);
    }
    if (timeoutMs > 0 && this.failure === null) this.entry = timers.schedule(this, 0, timeoutMs);
  }

  /** Reads one chunk; throws the abort reason / timeout error if tripped meanwhile. */
  async read(reader: ChunkReader): Promise<ReadResult<Uint8Array>> {
    this.check();
    this.reader = reader;
    try {
      const r = await reader.read();
      this.check();
      return r;
    } finally {
      this.reader = null;
    }
  }

  /** Awaits `p`, or rejects as soon as the guard trips. */
  race<T>(p: Promise<T> | T): Promise<T> {
    this.check();
    return new Promise<T>((resolve, reject) => {
      this.tripHook = reject;
      Promise.resolve(p).then(
        (v) => {
          this.tripHook = null;
          if (this.failure !== null) reject(this.failure);
          else resolve(v);
        },
        (e: unknown) => {
          this.tripHook = null;
          reject(e);
        },
      );
    });
  }

  check(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** Trips the guard (used by close() during CONNECTING too). */
  trip(reason: unknown): void {
    if (this.failure !== null) return;
    this.failure = reason;
    // Cancelling the reader wakes the pending read; the caller sees `failure`.
    this.reader?.cancel(reason).catch(noop);
    this.tripHook?.(reason);
    this.tripHook = null;
    this.controller?.abort(reason);
    this.dispose();
  }

  handleEvent(): void {
    this.trip(this.signal!.reason);
  }

  onTimer(): void {
    this.entry = null;
    this.trip(new HandshakeError(this.timeoutStatus, 'HANDSHAKE_TIMEOUT', 'the opening handshake timed out'));
  }

  dispose(): void {
    timers.cancel(this.entry);
    this.entry = null;
    this.signal?.removeEventListener('abort', this);
  }
}
