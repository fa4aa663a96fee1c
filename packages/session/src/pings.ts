/**
 * A connection's outstanding pings (RFC 6455 5.5.2-5.5.3), for our codec's Connection and the platform engine alike:
 * each `ping()` waits for the pong that echoes its payload. A peer may answer only the latest of several pings, so
 * a pong also settles the older ones; an unsolicited pong (a heartbeat) settles nothing. A connection makes its
 * Pings on the first ping, so an idle connection holds none.
 */
import { WebSocketError } from './errors.js';

interface PendingPing {
  payload: Uint8Array;
  resolve: () => void;
  reject: (e: unknown) => void;
}

let counter = 0;

/** The payload of `ping(data)`: a copy of `data`, or a unique 4-byte counter so concurrent pings are told apart. */
export function pingPayload(data: Uint8Array | undefined): Uint8Array | RangeError {
  if (data === undefined) {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, ++counter >>> 0);
    return payload;
  }
  if (data.byteLength > 125) return new RangeError('ping payload must be at most 125 bytes');
  return data.slice();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Pings {
  #pending: PendingPing[] = [];

  /** Registers a ping with `payload` (call before sending it); resolves when its pong (or a later one) arrives. */
  wait(payload: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => void this.#pending.push({ payload, resolve, reject }));
  }

  /** A pong arrived: settles the ping it answers and every older one. */
  pong(data: Uint8Array): void {
    const pending = this.#pending;
    const i = pending.findIndex((p) => sameBytes(p.payload, data));
    if (i < 0) return;
    for (const p of pending.splice(0, i + 1)) p.resolve();
  }

  /** The connection ended: every outstanding ping rejects with `error` (a WebSocketError when none is given). */
  rejectAll(error?: unknown): void {
    const e = error ?? new WebSocketError('The WebSocket was closed before the pong arrived.');
    for (const p of this.#pending.splice(0)) p.reject(e);
  }
}
