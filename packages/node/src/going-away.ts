/**
 * Closing a session with a code the WHATWG API refuses to take from users (1001 Going Away on shutdown, 1011
 * after a handler failure). `WebSocketStream.close()` only accepts 1000 and 3000-4999, so until the session
 * exports a way to do this (requested in CONTRACT.md "## Changes"), we reach its connection core, whose
 * `close(code, reason)` is the same one its own idle timeout uses for 1001.
 */
import type { WebSocketStream } from '@streamsocket/session';

interface InternalClose {
  close(code: number | null, reason: string): void;
}

export function goingAway(ws: WebSocketStream, reason: string, code = 1001): void {
  // Whichever public name the session settles on (the deno and bun adapters probe the same ones).
  const pub = ws as unknown as Record<string, unknown>;
  for (const name of ['closeInternal', 'closeWithCode']) {
    const f = pub[name];
    if (typeof f === 'function') return void (f as (c: number, r: string) => void).call(ws, code, reason);
  }
  const conn = (ws as unknown as { conn?: InternalClose | null }).conn;
  if (conn && typeof conn.close === 'function') return conn.close(code, reason);
  ws.close(); // not open yet: abort the handshake
}
