// Shared test helpers (not a test file: no .test.ts suffix).
import { accept, connect, createPipePair, type AcceptOptions, type ConnectOptions, type PipeEnd } from '../src/index.js';
import { buildClientRequest, HeadReader } from '@streamsocket/handshake';
import { WebSocketDecoderStream, type Message } from '@streamsocket/codec';

export const sleep = (ms: number) => new Promise<void>((r) => globalThis.setTimeout(r, ms));

/** Rejects if `p` does not settle within `ms` (no test may hang). */
export function within<T>(p: Promise<T>, ms = 3000, what = 'operation'): Promise<T> {
  let t: ReturnType<typeof globalThis.setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    t = globalThis.setTimeout(() => rej(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => globalThis.clearTimeout(t));
}

/** Every event of `types` that `ws` dispatches, in order. */
export function events(ws: EventTarget, types = ['open', 'message', 'error', 'close']): Event[] {
  const log: Event[] = [];
  for (const t of types) ws.addEventListener(t, (e) => log.push(e));
  return log;
}

/** The next `type` event of `ws` (bounded in time). */
export function waitFor(ws: EventTarget, type: string): Promise<Event> {
  return within(new Promise((r) => ws.addEventListener(type, r, { once: true })), 3000, `event ${type}`);
}

/** Settles to { ok, value | error } (for asserting on rejections). */
export async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: any }> {
  try {
    return { ok: true, value: await within(p) };
  } catch (error) {
    return { ok: false, error };
  }
}

export async function openPair(serverOpts: AcceptOptions = {}, clientOpts: ConnectOptions = {}, url = 'ws://example.com/chat', pipeHwm?: number) {
  const [c, s] = createPipePair(pipeHwm === undefined ? {} : { highWaterMark: pipeHwm });
  const server = accept(s, serverOpts);
  const client = connect(c, url, clientOpts);
  const [so, co] = await within(Promise.all([server.opened, client.opened]), 3000, 'open');
  return { server, client, so, co, c, s };
}

export const text = new TextEncoder();

/** A masked client frame (zero mask key) built by hand, for raw-peer tests. */
export function clientFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0), opts: { fin?: boolean; rsv1?: boolean } = {}): Uint8Array {
  const p = typeof payload === 'string' ? text.encode(payload) : payload;
  const fin = opts.fin ?? true;
  const b0 = (fin ? 0x80 : 0) | (opts.rsv1 ? 0x40 : 0) | opcode;
  let head: number[];
  if (p.byteLength < 126) head = [b0, 0x80 | p.byteLength];
  else if (p.byteLength < 65536) head = [b0, 0x80 | 126, p.byteLength >> 8, p.byteLength & 255];
  else {
    head = [b0, 0x80 | 127, 0, 0, 0, 0];
    const n = p.byteLength;
    head.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  }
  const out = new Uint8Array(head.length + 4 + p.byteLength);
  out.set(head);
  out.set(p, head.length + 4); // zero mask key: payload unchanged
  return out;
}

export function closePayload(code: number, reason = ''): Uint8Array {
  const r = text.encode(reason);
  const out = new Uint8Array(2 + r.byteLength);
  out[0] = code >> 8;
  out[1] = code & 255;
  out.set(r, 2);
  return out;
}

/**
 * A hand-driven client: performs the opening handshake itself, then lets the
 * test write raw frame bytes and read decoded server messages.
 */
export async function rawClient(end: PipeEnd, opts: { protocols?: string[]; headers?: Record<string, string> } = {}) {
  const req = buildClientRequest('ws://example.com/', opts);
  const writer = end.writable.getWriter();
  await writer.write(req.bytes);
  const reader = end.readable.getReader();
  const hr = new HeadReader('response');
  let rest: Uint8Array = new Uint8Array(0);
  let status = 0;
  for (;;) {
    const { done, value } = await within(reader.read(), 3000, 'raw handshake');
    if (done) throw new Error('eof during handshake');
    const r = hr.push(value);
    if (r) {
      status = r.head.status;
      rest = r.rest;
      break;
    }
  }
  reader.releaseLock();
  const dec = new WebSocketDecoderStream({ role: 'client' });
  const dw = dec.writable.getWriter();
  if (rest.byteLength) void dw.write(rest);
  dw.releaseLock();
  void end.readable.pipeTo(dec.writable).catch(() => {});
  const messages = dec.readable.getReader();
  return {
    status,
    writer,
    async next(): Promise<Message | null> {
      const r = await within(messages.read(), 3000, 'raw read');
      return r.done ? null : (r.value as Message);
    },
    /** Reads until EOF; returns the messages seen. */
    async drain(): Promise<Message[]> {
      const out: Message[] = [];
      for (;;) {
        let r;
        try {
          r = await within(messages.read(), 3000, 'raw drain');
        } catch {
          return out;
        }
        if (r.done) return out;
        out.push(r.value as Message);
      }
    },
  };
}

/** Reads everything from a readable until it closes (bounded in time). */
export async function readAll<T>(readable: ReadableStream<T>, ms = 3000): Promise<T[]> {
  const r = readable.getReader();
  const out: T[] = [];
  for (;;) {
    const { done, value } = await within(r.read(), ms, 'readAll');
    if (done) return out;
    out.push(value);
  }
}

/**
 * A hand-driven server: answers the opening handshake itself, then lets the
 * test write raw (unmasked) frames and read decoded client messages.
 */
export async function rawServer(end: PipeEnd) {
  const { validateRequest, buildAcceptResponse } = await import('@streamsocket/handshake');
  const reader = end.readable.getReader();
  const hr = new HeadReader('request');
  let rest: Uint8Array = new Uint8Array(0);
  for (;;) {
    const { done, value } = await within(reader.read(), 3000, 'raw server handshake');
    if (done) throw new Error('eof during handshake');
    const r = hr.push(value);
    if (r) {
      const v = validateRequest(r.head);
      if (!v.ok) throw v.error;
      const writer = end.writable.getWriter();
      await writer.write(buildAcceptResponse(v.handshake));
      rest = r.rest;
      reader.releaseLock();
      const dec = new WebSocketDecoderStream({ role: 'server' });
      const dw = dec.writable.getWriter();
      if (rest.byteLength) void dw.write(rest);
      dw.releaseLock();
      let eof = false;
      const piped = end.readable.pipeTo(dec.writable).then(
        () => (eof = true),
        () => (eof = true),
      );
      const messages = dec.readable.getReader();
      return {
        writer,
        piped,
        get eof() {
          return eof;
        },
        async next(): Promise<Message | null> {
          const r = await within(messages.read(), 3000, 'raw server read');
          return r.done ? null : (r.value as Message);
        },
      };
    }
  }
}

/** An unmasked server frame. */
export function serverFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0), fin = true): Uint8Array {
  const p = typeof payload === 'string' ? text.encode(payload) : payload;
  if (p.byteLength >= 126) throw new Error('serverFrame: small payloads only');
  const out = new Uint8Array(2 + p.byteLength);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = p.byteLength;
  out.set(p, 2);
  return out;
}
