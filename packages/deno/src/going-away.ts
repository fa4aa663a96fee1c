/**
 * Server-initiated closes with codes the WHATWG `close()` validation refuses to take from applications (1001
 * Going Away on shutdown, 1011 after a handler failure). They are legitimate on the wire (RFC 6455 7.4.1), so
 * the session must send them on our behalf.
 *
 * The session exposes no public method for this yet (requested in CONTRACT.md "Changes" by the node, deno and
 * bun adapters): this probes the public names proposed there first (the same ones @streamsocket/node probes),
 * then falls back to the session's connection core, whose `close(code, reason)` is the one its own idle timeout
 * uses for 1001. Kept in this one file so the workaround goes away in one place.
 */
import type { WebSocketStream } from '@streamsocket/session';

interface InternalClose {
  close(code: number | null, reason: string): void;
}

export function goingAway(ws: WebSocketStream, reason: string, code = 1001): void {
  const pub = ws as unknown as Record<string, unknown>;
  for (const name of ['closeInternal', 'closeWithCode']) {
    const f = pub[name];
    if (typeof f === 'function') return void (f as (c: number, r: string) => void).call(ws, code, reason);
  }
  const conn = (ws as unknown as { conn?: InternalClose | null }).conn;
  if (conn && typeof conn.close === 'function') return conn.close(code, reason);
  ws.close(); // not open yet: abort the handshake
}
