/** Shared test helpers: bounded waits and small readers. Every wait has a deadline: no test may hang. */
import type { WebSocketStream } from '../src/index.js';

export function within<T>(p: Promise<T>, ms = 5000, what = 'operation'): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with the rejection reason, or fails when `p` resolves. */
export async function rejection(p: Promise<unknown>, ms = 5000): Promise<unknown> {
  return within(p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e), ms, 'rejection');
}

/** An echo handler for our server: every message goes back as it came. */
export async function echo(ws: WebSocketStream): Promise<void> {
  try {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable);
  } catch {
    /* refused, or the connection ended */
  }
}

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when ::1 can be bound on this machine. */
export async function hasIPv6(): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

/** Polls `cond` every 5 ms until true; fails after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(5);
  }
}
