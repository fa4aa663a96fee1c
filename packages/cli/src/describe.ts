/**
 * One-line, human-readable reasons for every way a connection can fail. Scripts parse the exit status; people
 * read this line, so it names the cause they can act on (the HTTP status of a refused handshake, the close code,
 * the unreachable address) rather than a stack trace.
 */
import type { CloseInfo } from './session-types.js';

/** Standard close codes people meet (RFC 6455 section 7.4.1 and the IANA registry). */
const CLOSE_NAMES: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status received',
  1006: 'abnormal closure',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1014: 'bad gateway',
  1015: 'TLS handshake failure',
};

/**
 * Only 1000 is a clean ending for a script: 1005 (a close frame without a code) says nothing about success, and a
 * caller that must tell "done" from "dropped" cannot take silence for done.
 */
export function isCleanClose(info: CloseInfo): boolean {
  return info.closeCode === 1000;
}

export function closeCodeName(code: number): string {
  return CLOSE_NAMES[code] ?? (code >= 4000 && code <= 4999 ? 'application-defined' : code >= 3000 && code <= 3999 ? 'registered' : 'unknown');
}

export function describeClose(info: CloseInfo): string {
  const reason = info.reason ? `: ${oneLine(info.reason)}` : '';
  return `connection closed with code ${info.closeCode} (${closeCodeName(info.closeCode)})${reason}`;
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string | number;
  status?: number;
  closeCode?: number;
  reason?: string;
  cause?: unknown;
  address?: string;
  port?: number;
}

export function describeError(e: unknown, url?: URL): string {
  if (typeof e !== 'object' || e === null) return oneLine(String(e));
  const err = e as ErrorLike;
  const where = url ? url.host : '';
  // The handshake's answer: a refused upgrade (403, 404, 426 ...) or an invalid 101.
  if (err.name === 'HandshakeError') {
    if (typeof err.status === 'number' && err.status > 0 && err.status !== 101) {
      // UNEXPECTED_STATUS's message restates the URL and status this line already gives.
      const detail = err.message && err.code !== 'UNEXPECTED_STATUS' ? ` (${oneLine(err.message)})` : '';
      return `handshake refused by ${where}: HTTP ${err.status}${statusText(err.status)}${detail}`;
    }
    return `handshake with ${where} failed: ${oneLine(err.message ?? 'invalid response')}`;
  }
  switch (err.code) {
    case 'ECONNREFUSED': return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `cannot resolve host ${url?.hostname ?? ''}`;
    case 'ECONNRESET': return `connection reset by ${where}`;
    case 'ETIMEDOUT': return `connection to ${where} timed out`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return `${where} is unreachable`;
    case 'EPIPE': return 'output closed (broken pipe)';
  }
  // Certificate problems, whether reported directly or wrapped (TlsConnectError's cause): say what to do.
  const tls = tlsProblem(err);
  if (tls) return `TLS certificate of ${where} not accepted: ${oneLine(tls.message ?? '')} (${tls.code}); --insecure skips verification`;
  if (err.name === 'TimeoutError') return `timed out${where ? ` talking to ${where}` : ''}`;
  if (typeof err.closeCode === 'number' && err.closeCode !== 0) {
    const detail = err.message || err.reason;
    return `connection closed with code ${err.closeCode} (${closeCodeName(err.closeCode)})${detail ? `: ${oneLine(detail)}` : ''}`;
  }
  // Wrapped causes (e.g. a WebSocketError around ECONNRESET) carry the useful part.
  if (err.cause && typeof err.cause === 'object' && (err.cause as ErrorLike).code) return describeError(err.cause, url);
  return oneLine(err.message || err.name || 'unknown error');
}

function tlsProblem(err: ErrorLike): ErrorLike | null {
  for (let e: ErrorLike | undefined = err, depth = 0; e && depth < 4; e = e.cause as ErrorLike | undefined, depth++) {
    if (typeof e.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(e.code)) {
      // TlsConnectError repeats its cause's code: report the innermost error, whose message is the plain reason.
      const inner = e.cause as ErrorLike | undefined;
      return inner && inner.code === e.code ? inner : e;
    }
  }
  return null;
}

function statusText(status: number): string {
  const t: Record<number, string> = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    426: 'Upgrade Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
    500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  };
  return t[status] ? ` ${t[status]}` : '';
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
