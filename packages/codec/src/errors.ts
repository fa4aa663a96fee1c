/**
 * The one error type the codec throws for anything a peer sent wrong. It carries the close code the endpoint should
 * send when it fails the connection (RFC 6455 section 7.1.7), so that the session layer never has to map messages to
 * codes itself.
 */
export class CodecError extends Error {
  /** Close code to send: 1002 protocol error, 1007 invalid payload data, 1009 message too big. */
  readonly closeCode: number;
  /** Machine-readable reason, stable across releases (e.g. 'RESERVED_BITS', 'INVALID_UTF8', 'MESSAGE_TOO_BIG'). */
  readonly code: string;

  constructor(closeCode: number, code: string, message: string) {
    super(message);
    this.name = 'CodecError';
    this.closeCode = closeCode;
    this.code = code;
  }
}

/** RFC 6455 7.4.1 close codes the codec itself produces. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
} as const;

// Small helpers so that call sites stay one line and the hot paths do not carry string building.
export function protocolError(code: string, message: string): CodecError {
  return new CodecError(1002, code, message);
}
export function invalidPayload(code: string, message: string): CodecError {
  return new CodecError(1007, code, message);
}
export function tooBig(code: string, message: string): CodecError {
  return new CodecError(1009, code, message);
}
