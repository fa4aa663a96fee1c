/**
 * Server-initiated closes with codes the WHATWG `close()` validation refuses to applications (1001 Going Away
 * on shutdown, 1011 when the handler failed). They are legitimate on the wire (RFC 6455 7.4.1), so the session
 * must send them on our behalf.
 *
 * The session exposes no public method for this yet (requested in CONTRACT.md "Changes" by the node adapter):
 * until it does, this uses `goingAway()` / `closeInternal()` when present and otherwise the session's internal
 * connection object. Kept in this one file so the workaround is removed in one place.
 */
import type { WebSocketStream } from '@streamsocket/session';

interface InternalClose {
  goingAway?: (reason?: string) => void;
  closeInternal?: (code: number, reason?: string) => void;
  conn?: { close(code: number | null, reason: string): void } | null;
}

export function internalClose(ws: WebSocketStream, code: number, reason: string): void {
  const s = ws as unknown as InternalClose;
  if (typeof s.closeInternal === 'function') return s.closeInternal(code, reason);
  if (code === 1001 && typeof s.goingAway === 'function') return s.goingAway(reason);
  if (s.conn && typeof s.conn.close === 'function') return s.conn.close(code, reason);
  // Last resort: a close the public API accepts.
  ws.close({ closeCode: 1000, reason });
}

export function goingAway(ws: WebSocketStream, reason: string): void {
  internalClose(ws, 1001, reason);
}
