/**
 * Loopback helpers for the hostile-peer and fault suites: a raw TCP peer that speaks just enough WebSocket to
 * misbehave on purpose, leak counters (fds, active handles/timers, unhandled rejections), and RSS sampling.
 * Every wait is bounded.
 */
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { serve, type WebSocketStream } from '@streamsocket/node';
import { frame } from './_codec-check.js';

export { frame };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(5);
  }
}

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export function upgradeRequest(port: number, extra = '', path = '/'): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** A raw TCP peer recording everything it receives. */
export class RawPeer {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  receivedTotal = 0;
  closed = false;
  closedAt = 0;
  error: Error | null = null;
  private readonly connected: Promise<void>;
  /** Keep only the first `keep` bytes (floods). */
  keep = 1 << 20;

  static readonly all = new Set<RawPeer>();
  /** Destroys every peer still open (test.after.each): a failed test must not keep the process alive. */
  static destroyAll(): void {
    for (const p of RawPeer.all) p.socket.destroy();
    RawPeer.all.clear();
  }

  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect(port, host);
    RawPeer.all.add(this);
    this.socket.on('data', (d: Buffer) => {
      this.receivedTotal += d.length;
      if (this.received.length < this.keep) this.received = Buffer.concat([this.received, d]);
    });
    this.socket.on('error', (e) => (this.error = e));
    this.socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
    });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  ready(): Promise<void> {
    return within(this.connected, 5000, 'connect');
  }

  write(b: string | Uint8Array): boolean {
    return this.socket.write(b);
  }

  /** Resolves with the status line once a full response head arrived. */
  async responseHead(ms = 5000): Promise<{ status: number; head: string; rest: Buffer }> {
    await until(() => this.received.indexOf('\r\n\r\n') >= 0 || this.closed, ms, 'response head');
    const i = this.received.indexOf('\r\n\r\n');
    if (i < 0) return { status: 0, head: '', rest: Buffer.alloc(0) };
    const head = this.received.subarray(0, i).toString('latin1');
    return { status: Number(head.split(' ')[1]), head, rest: this.received.subarray(i + 4) };
  }

  /** Handshake as a client; resolves after the 101. */
  async upgrade(port: number, extra = ''): Promise<void> {
    await this.ready();
    this.write(upgradeRequest(port, extra));
    const r = await this.responseHead();
    if (r.status !== 101) throw new Error(`expected 101, got ${r.status}: ${r.head}`);
    this.received = Buffer.from(r.rest);
  }

  waitClosed(ms = 5000): Promise<void> {
    return until(() => this.closed, ms, 'peer close');
  }

  /** Server frames (unmasked) received after the handshake. */
  frames(): Array<{ opcode: number; fin: boolean; payload: Buffer }> {
    return parseFrames(this.received);
  }

  /** The close code of the first close frame received, or null. */
  closeCode(): number | null {
    const c = this.frames().find((f) => f.opcode === 8);
    return c ? (c.payload.length >= 2 ? c.payload.readUInt16BE(0) : 1005) : null;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function parseFrames(b: Buffer): Array<{ opcode: number; fin: boolean; payload: Buffer }> {
  const out: Array<{ opcode: number; fin: boolean; payload: Buffer }> = [];
  let p = 0;
  while (p + 2 <= b.length) {
    const b0 = b[p]!;
    const b1 = b[p + 1]!;
    let n = b1 & 127;
    let h = 2;
    if (n === 126) {
      if (p + 4 > b.length) break;
      n = b.readUInt16BE(p + 2);
      h = 4;
    } else if (n === 127) {
      if (p + 10 > b.length) break;
      n = Number(b.readBigUInt64BE(p + 2));
      h = 10;
    }
    if (b1 & 0x80) h += 4;
    if (p + h + n > b.length) break;
    out.push({ opcode: b0 & 15, fin: (b0 & 0x80) !== 0, payload: b.subarray(p + h, p + h + n) });
    p += h + n;
  }
  return out;
}

const MASK = new Uint8Array([0x11, 0x22, 0x33, 0x44]);
/** A client (masked) frame. */
export function clientFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0), fin = true, rsv1 = false): Uint8Array {
  const p = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return frame(fin, rsv1, opcode, p, MASK);
}
export function closePayload(code: number, reason = ''): Uint8Array {
  const r = new TextEncoder().encode(reason);
  const p = new Uint8Array(2 + r.length);
  p[0] = code >>> 8;
  p[1] = code & 0xff;
  p.set(r, 2);
  return p;
}

// ---- leak accounting ----

export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Active handles/requests by type (Timeout, TCPSocketWrap, ...), via process.getActiveResourcesInfo(). */
export function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

export interface Baseline { fds: number; timers: number; sockets: number }
export function baseline(): Baseline {
  const r = resources();
  return { fds: fdCount(), timers: r.Timeout ?? 0, sockets: (r.TCPSocketWrap ?? 0) + (r.TCPServerWrap ?? 0) };
}

/** Waits (bounded) until fds, timers and sockets are back to `b`; returns the last reading. */
export async function backTo(b: Baseline, ms = 4000): Promise<Baseline> {
  const end = Date.now() + ms;
  let now = baseline();
  while (Date.now() < end) {
    now = baseline();
    if (now.fds <= b.fds && now.timers <= b.timers && now.sockets <= b.sockets) return now;
    await sleep(20);
  }
  return now;
}

/** Records unhandled rejections and uncaught exceptions for the whole file. */
export const escaped: unknown[] = [];
process.on('unhandledRejection', (e) => void escaped.push(e));
process.on('uncaughtException', (e) => void escaped.push(e));

// ---- memory ----

export const MiB = 1024 * 1024;
export function rss(): number {
  return process.memoryUsage().rss;
}

/** Samples RSS every `everyMs` until stopped; returns the peak. */
export function rssSampler(everyMs = 10): { stop(): number; peak(): number } {
  let peak = rss();
  const t = setInterval(() => {
    const r = rss();
    if (r > peak) peak = r;
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      const r = rss();
      if (r > peak) peak = r;
      return peak;
    },
    peak: () => peak,
  };
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

// ---- cleanup ----

const servers = new Set<{ close(): Promise<void> }>();
/** Registers a server so that cleanup() closes it even when a test failed halfway. */
export function tracked<T extends { close(): Promise<void> }>(s: T): T {
  servers.add(s);
  return s;
}
/** test.after.each: destroys raw peers and closes tracked servers. */
export async function cleanup(): Promise<void> {
  RawPeer.destroyAll();
  const all = [...servers];
  servers.clear();
  await Promise.all(all.map((s) => s.close().catch(() => {})));
}

// ---- a counting server ----

export interface Seen { messages: number; bytes: number; closed: Promise<unknown> }

/** A server whose handler counts what the app reads (optionally slowly). */
/**
 * A @streamsocket/node server that reads every message (after `readDelayMs` each) and counts them, per connection,
 * with how each connection ended. `opts` are serve() options (e.g. `deflate: true`).
 */
export async function countingServer(opts: Record<string, unknown> = {}, readDelayMs = 0): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0, ...opts }, async (ws: WebSocketStream) => {
    const s: Seen = { messages: 0, bytes: 0, closed: ws.closed.then((c) => c, (e: unknown) => e) };
    seen.push(s);
    try {
      const { readable } = await ws.opened;
      const r = readable.getReader();
      for (;;) {
        const m = await r.read();
        if (m.done) break;
        s.messages++;
        s.bytes += typeof m.value === 'string' ? m.value.length : m.value.byteLength;
        if (readDelayMs) await sleep(readDelayMs);
      }
    } catch {
      /* failed connection */
    }
  }));
  await server.ready;
  return { port: server.port, seen };
}
