/**
 * The closing handshake (RFC 6455 sections 5.5.1 and 7) as a state object with no I/O, in the manner of
 * python-websockets' `protocol.py` and wsproto's `connection.py`: `Connection` tells it what happened (the
 * application closed, a close frame arrived or went out, the codec failed, the input ended, a write failed, the
 * close timer fired) and carries out what it answers. It holds no stream, no timer and no transport.
 *
 * Every input returns the actions to take as bits of one number (0: nothing), to be carried out in the order the
 * constants below are declared. The data an action needs is on the object: `code`/`reason` for our close frame,
 * `error` for a failed connection, `cause` for an abort, `clean`/`received` for the report. Decisions are made when
 * the input is given: an input that ends the session sets `readyState` to CLOSED before the driver aborts the
 * transport, so the transport's own synchronous reports while it is torn down (read error, write end) find the
 * session closed and answer nothing.
 *
 * States (`readyState`, as the WebSocket API numbers them): OPEN; CLOSING once either close frame is queued, sent or
 * received (`pending`, `sent`, `received` say which); CLOSED once the end is reported. What is reported (RFC 6455
 * 7.1.5, 7.1.6): after a clean close (both close frames exchanged) the code and reason of the peer's close frame,
 * 1005 when it had no code; every other end is 1006, with the protocol error (whose 1002/1007/1009 went to the
 * peer), the socket error or the timeout as its `cause`. Who closes TCP (7.1.1): the server at once after the
 * exchange; the client waits up to the close timeout for the server's FIN, then closes itself (still clean).
 *
 * Created by `Connection` at the first of these inputs only: an open, idle connection holds none.
 */
import type { Role } from '@streamsocket/codec';
import { utf8Length, MAX_REASON_BYTES } from './close-args.js';

/** What a protocol error needs here: the codec's `CodecError`. */
export interface ProtocolError {
  readonly closeCode: number;
  readonly message: string;
}

export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

// Actions, in the order they are carried out.
/** The peer's close frame came: end the application's readable (no message follows a close frame). */
export const END_READABLE = 1;
/** We are closing: read whatever the application's demand (the peer's close frame must be seen). */
export const WAKE_READER = 1 << 1;
/** A protocol error: decode nothing more. */
export const PAUSE_INPUT = 1 << 2;
/** Arm the close timer (closeTimeout) unless it is armed. */
export const ARM_TIMER = 1 << 3;
/** Restart the close timer from now (a client waiting for the server's FIN). */
export const REARM_TIMER = 1 << 4;
/**
 * A protocol error while open: the messages decoded before it stay the application's, and what it writes in answer
 * goes out before our close frame. Call `readerDone()` once the reader took them (or left) and its writes had a turn.
 */
export const AWAIT_READER = 1 << 5;
/** Write our close frame (`code`, `reason`) after every write accepted so far; call `closeSent()` as it goes out. */
export const SEND_CLOSE = 1 << 6;
/** Write our close frame now, ahead of the writes not yet started (a protocol error's writes ran out of time). */
export const SEND_CLOSE_NOW = 1 << 7;
/** The connection failed (`error`): error the application's readable. */
export const FAIL_READABLE = 1 << 8;
/** Flush what is written, half-close (FIN), and stop reading once the write side ended. */
export const SHUTDOWN = 1 << 9;
/** Drop whatever is queued and tear the transport down (`cause`). */
export const ABORT = 1 << 10;
/** Call `flushed()` once the write side has ended (our last bytes are out). */
export const FINISH_AFTER_FLUSH = 1 << 11;
/** Report the end now (`clean`, `received`, `cause`), then carry out `release()`. */
export const FINISH = 1 << 12;
/** Stop reading (after FINISH, when the write side had already ended). */
export const STOP_READING = 1 << 13;

/** Truncates a string so that its UTF-8 encoding fits a close reason (123 bytes). */
export function clampReason(s: string): string {
  if (utf8Length(s) <= MAX_REASON_BYTES) return s;
  let out = '';
  for (const ch of s) {
    if (utf8Length(out + ch) > MAX_REASON_BYTES) break;
    out += ch;
  }
  return out;
}

export class CloseState {
  readonly role: Role;
  readyState: 1 | 2 | 3 = OPEN;
  /** Our close frame's code (null: no code, the peer reports 1005) and reason, once queued. */
  code: number | null = null;
  reason = '';
  /** Our close frame is queued behind the application's writes (SEND_CLOSE) and not yet out. */
  pending = false;
  /** Our close frame went out. */
  sent = false;
  /** The peer's close frame: its code (1005 when it had none) and reason. */
  received: { closeCode: number; reason: string } | null = null;
  /** The protocol error that fails the connection; its code is what we send. */
  error: ProtocolError | null = null;
  /** The protocol error's close frame is queued (or it found ours already out). */
  errorQueued = false;
  /** The peer's FIN came. */
  eof = false;
  /** The transport's write side ended (after our FIN, or failed). */
  writeEnded = false;
  /** We started closing the transport (SHUTDOWN or ABORT): nothing more is written. */
  shut = false;
  /** How the session ended (FINISH; set earlier, with FINISH_AFTER_FLUSH, for when the flush is done). */
  clean = false;
  cause: unknown = undefined;
  private finishing = false;

  constructor(role: Role) {
    this.role = role;
  }

  /** The code the application is told (`closed`, the close event): the peer's after a clean close, else 1006. */
  get closeCode(): number {
    return this.readyState === CLOSED && this.clean && this.received !== null ? this.received.closeCode : 1006;
  }

  get closeReason(): string {
    return this.readyState === CLOSED && this.clean && this.received !== null ? this.received.reason : '';
  }

  // ------------------------------------------------------------------ inputs

  /** The application closes (`code` null: a close frame without a code). Ignored unless open. */
  appClose(code: number | null, reason: string): number {
    if (this.readyState !== OPEN) return 0;
    this.readyState = CLOSING;
    return WAKE_READER | ARM_TIMER | this.queue(code, reason);
  }

  /** The peer's close frame (code 1005: it had none). Echoed when we had not closed (RFC 6455 5.5.1). */
  closeFrameReceived(code: number, reason: string): number {
    if (this.received !== null || this.readyState === CLOSED) return 0;
    this.received = { closeCode: code, reason };
    if (this.readyState === OPEN) {
      this.readyState = CLOSING;
      return END_READABLE | ARM_TIMER | this.queue(code === 1005 ? null : code, code === 1005 ? '' : reason);
    }
    // Our close is out: the exchange is done. Still queued: closeSent() completes it.
    return this.sent ? END_READABLE | this.exchanged() : END_READABLE;
  }

  /** Our close frame is going out now (the driver writes it right after this call). */
  closeSent(): number {
    if (this.sent || this.readyState === CLOSED) return 0;
    this.pending = false;
    this.sent = true;
    if (this.error !== null) return this.failed();
    return this.received !== null ? this.exchanged() : 0;
  }

  /**
   * The codec found a protocol error (RFC 6455 7.1.7): nothing more is read and our close frame carries its code.
   * While open, the reader first gets the messages decoded before it (AWAIT_READER); otherwise it is queued now.
   * After the peer's close frame, bytes that fail to decode are ignored as the end of its input.
   */
  protocolError(e: ProtocolError): number {
    if (this.readyState === CLOSED) return 0;
    if (this.received !== null) return this.endOfInput();
    if (this.error !== null) return 0;
    this.error = e;
    const a = PAUSE_INPUT | ARM_TIMER;
    return this.sent || this.readyState !== OPEN ? a | this.failNow(false) : a | AWAIT_READER;
  }

  /** AWAIT_READER is over: the protocol error's close frame is queued behind what the application wrote. */
  readerDone(): number {
    return this.error === null ? 0 : this.failNow(false);
  }

  /** The peer's FIN. After its close frame that is the normal end; before it, an abnormal one (1006). */
  endOfInput(): number {
    this.eof = true;
    if (this.readyState === CLOSED || this.error !== null) return 0; // a failing connection ends through failed()
    if (this.received !== null) return this.shutdown() | this.finishAfterFlush(true, undefined);
    return this.abnormal(new Error('connection closed without a close frame'));
  }

  /** Reading failed (reset, socket error). Once both close frames are exchanged that is just the peer leaving. */
  readFailed(cause: unknown): number {
    if (this.readyState === CLOSED) return 0;
    if (this.error === null && this.received !== null && this.sent) return this.endOfInput();
    return this.abnormal(cause);
  }

  /**
   * The transport's write side ended: `err` null after our FIN, else why it failed. Once our close frame is out or
   * the peer's came, a refused write is only the peer closing first (its FIN is on the way, the close timer bounds
   * the wait); before that the connection is gone.
   */
  writeEnd(err: unknown): number {
    if (this.writeEnded) return 0;
    this.writeEnded = true;
    if (this.readyState === CLOSED || err === null || this.received !== null || this.sent) return 0;
    return this.abnormal(err);
  }

  /** Abrupt end (socket error, EOF before a close frame, a timeout): abort the transport, report 1006. */
  abnormal(cause: unknown): number {
    if (this.readyState === CLOSED) return 0;
    this.shut = true;
    this.cause = cause;
    return ABORT | this.finish(false, cause);
  }

  /** The close timer fired. */
  timerFired(): number {
    if (this.readyState === CLOSED) return 0;
    if (this.error !== null && !this.sent) {
      // The reader or the application's writes did not get through in time: the close frame goes now, and the
      // timer runs once more for the rest.
      return ARM_TIMER | this.failNow(true);
    }
    if (this.received !== null && this.sent) {
      // The exchange is done; the peer just did not close TCP (or take our bytes) in time. Still a clean close.
      this.shut = true;
      this.cause = new Error('close timeout');
      return ABORT | this.finish(true, this.cause);
    }
    return this.abnormal(new Error('close timeout: the peer did not answer the close frame'));
  }

  /** FINISH_AFTER_FLUSH: the write side ended. */
  flushed(): number {
    return this.readyState === CLOSED ? 0 : this.finish(this.clean, this.cause);
  }

  /** After FINISH: what still keeps the transport open (its write side, or only its reading). */
  release(): number {
    if (this.writeEnded) return STOP_READING;
    if (this.clean) return this.shutdown();
    this.shut = true;
    return ABORT;
  }

  // ------------------------------------------------------------------ transitions

  /** Queues our close frame unless one is queued or out already. */
  private queue(code: number | null, reason: string): number {
    if (this.pending || this.sent) return 0;
    this.pending = true;
    this.code = code;
    this.reason = reason;
    return SEND_CLOSE;
  }

  /** Both close frames exchanged: the server closes TCP first; the client waits for it (RFC 6455 7.1.1). */
  private exchanged(): number {
    if (this.role === 'server' || this.eof) return this.shutdown() | this.finishAfterFlush(true, undefined);
    return REARM_TIMER;
  }

  /** Queues the protocol error's close frame (`force`: now, ahead of the writes not yet started). */
  private failNow(force: boolean): number {
    if (this.readyState === CLOSED || (this.errorQueued && !force)) return 0;
    const e = this.error!;
    this.errorQueued = true;
    this.readyState = CLOSING;
    if (this.sent) return this.failed();
    // Its code replaces a close the application had queued: the peer must learn why.
    this.pending = true;
    this.code = e.closeCode;
    this.reason = clampReason(e.message);
    return force ? SEND_CLOSE_NOW : SEND_CLOSE;
  }

  /** The protocol error's close frame is out (or ours was): the session ends once it is flushed (1006). */
  private failed(): number {
    return FAIL_READABLE | this.shutdown() | this.finishAfterFlush(false, this.error);
  }

  private shutdown(): number {
    if (this.shut) return 0;
    this.shut = true;
    return SHUTDOWN;
  }

  /** The first of these decides (the transport's flush ends once). */
  private finishAfterFlush(clean: boolean, cause: unknown): number {
    if (this.finishing) return 0;
    this.finishing = true;
    this.clean = clean;
    this.cause = cause;
    return FINISH_AFTER_FLUSH;
  }

  private finish(clean: boolean, cause: unknown): number {
    this.readyState = CLOSED;
    this.clean = clean && this.received !== null;
    this.cause = cause;
    this.pending = false;
    return FINISH;
  }
}
