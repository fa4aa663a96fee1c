/**
 * The single error type of the handshake package.
 *
 * Server side, `status` is the HTTP status to answer with and `headers` the extra
 * header fields that response needs (e.g. `Sec-WebSocket-Version: 13` for 426,
 * `Allow: GET` for 405). Client side (parsing/validating a server's response),
 * `status` is the status the server sent, or 0 when no valid status was received.
 * `code` is a stable machine-readable identifier; `message` is for humans and
 * never echoes peer-supplied bytes (it may end up in a response body).
 */
export class HandshakeError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Array<[string, string]>;

  constructor(status: number, code: string, message: string, headers: Array<[string, string]> = []) {
    super(message);
    this.name = 'HandshakeError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Reason phrases for the statuses this package produces (and a few common ones). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  101: 'Switching Protocols',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};
