/**
 * WebSocketError: the rejection reason of `opened`/`closed` and the error that
 * readable/writable are errored with, shaped like the WHATWG WebSocketStream
 * proposal's (a DOMException subclass with `closeCode` and `reason`; `closeCode`
 * rather than `code` because DOMException already has a numeric legacy `code`).
 */
import { validateCloseArgs } from './close-args.js';

export interface WebSocketCloseInfo {
  closeCode?: number;
  reason?: string;
}

export class WebSocketError extends DOMException {
  readonly closeCode: number | null;
  readonly reason: string;

  /**
   * Same validation as `WebSocket.close()`: a user-supplied close code must be
   * 1000 or 3000-4999 (InvalidAccessError), the reason at most 123 UTF-8 bytes
   * (SyntaxError). A reason without a code implies 1000.
   */
  constructor(message = '', init: WebSocketCloseInfo = {}) {
    super(message, 'WebSocketError');
    const { code, reason } = validateCloseArgs(init.closeCode, init.reason);
    this.closeCode = code;
    this.reason = reason;
  }

  /** Internal constructor for codes a user may not pass (1002, 1006, 1007, 1009 ...). */
  static internal(message: string, closeCode: number, reason: string, cause?: unknown): WebSocketError {
    const e = new WebSocketError(message);
    (e as { closeCode: number | null }).closeCode = closeCode;
    (e as { reason: string }).reason = reason;
    if (cause !== undefined) Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
    return e;
  }
}
