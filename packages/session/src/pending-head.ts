/**
 * A served connection until its request head is complete: the phase a slowloris holds open by the thousand.
 *
 * So it carries no session. There is no WebSocketStream, no promise of its own, no closure per read, and no
 * error object unless the server's `onError` asks for one. What remains is one pending read, one entry in the
 * shared timer heap and, from the first byte on, a HeadReader. When the head is complete, the owner (ServerCore)
 * starts the session over it with what is left of the handshake timeout. A malformed, oversized or unterminated
 * head gets its 4xx here, exactly as accept() answers it. A timeout, a drop by the admission policy or a reset
 * just closes.
 */
import { HandshakeError, HeadReader, errorResponse, type RequestHead } from '@streamsocket/handshake';
import type { ByteChannel, ReadResult } from './channel.js';
import type { ResolvedOptions } from './options.js';
import { respondAndClose } from './server-handshake.js';
import { timers, type TimerEntry, type TimerTarget } from './timers.js';

/** How a head that never completed ended. A `timeout` carries no error: the owner builds one if it reports it. */
export type HeadFailure = 'timeout' | 'dropped' | 'refused' | 'reset';

export interface HeadOwner<T> {
  /** The head is complete; `remainingMs` of the handshake timeout is left (Infinity when there is none). */
  headRead(p: PendingHead<T>, head: RequestHead, rest: Uint8Array, remainingMs: number): void;
  /** The connection ended before its head was complete (and is closed or closing). */
  headFailed(p: PendingHead<T>, how: HeadFailure, error: unknown): void;
}

const noop = (): void => {};

export class PendingHead<T> implements TimerTarget {
  #reader: HeadReader<'request'> | null = null;
  #entry: TimerEntry | null = null;
  #done = false;
  readonly #got = (r: ReadResult<Uint8Array>): void => this.#chunk(r);
  readonly #lost = (e: unknown): void => this.#end('reset', e, true);

  constructor(
    readonly conn: ByteChannel,
    private readonly options: ResolvedOptions,
    private readonly owner: HeadOwner<T>,
    /** The owner's own record of this connection. */
    readonly data: T,
  ) {
    if (options.handshakeTimeout > 0) this.#entry = timers.schedule(this, 0, options.handshakeTimeout);
    this.#next();
  }

  /**
   * Ends the wait with `reason` (the admission policy's drop, the server's shutdown) without closing the
   * connection: the caller tears it down. Idempotent.
   */
  drop(reason: unknown): void {
    this.#end('dropped', reason, false);
  }

  /** @internal TimerTarget: the handshake timeout. */
  onTimer(): void {
    this.#entry = null;
    this.#end('timeout', null, true);
  }

  #next(): void {
    this.conn.read().then(this.#got, this.#lost);
  }

  #chunk(r: ReadResult<Uint8Array>): void {
    if (this.#done) return;
    if (r.done) {
      return this.#refuse(new HandshakeError(400, 'INCOMPLETE_HEAD', 'the connection ended before the request head was complete'));
    }
    let result;
    try {
      const o = this.options;
      result = (this.#reader ??= new HeadReader('request', { maxHeadSize: o.maxHeadSize, maxHeaderCount: o.maxHeaderCount })).push(r.value);
    } catch (e) {
      return this.#refuse(e as HandshakeError);
    }
    if (result === null) return this.#next();
    const at = this.#entry?.at ?? Infinity;
    this.#settle();
    this.owner.headRead(this, result.head, result.rest, at - Date.now());
  }

  /** Answers a malformed, oversized or unterminated head with its status, then closes (bounded). */
  #refuse(e: HandshakeError): void {
    this.#end('refused', e, false);
    respondAndClose(this.conn, errorResponse(e), this.options.closeTimeout).catch(noop);
  }

  #end(how: HeadFailure, error: unknown, abort: boolean): void {
    if (this.#done) return;
    this.#settle();
    if (abort) this.conn.abort(error ?? undefined);
    this.owner.headFailed(this, how, error);
  }

  #settle(): void {
    this.#done = true;
    this.#reader = null;
    timers.cancel(this.#entry);
    this.#entry = null;
  }
}
