/**
 * One interoperability suite, run for every (client, server) pair over real loopback sockets: the server side
 * echoes every message and obeys a few text commands (prefixed with \u0001) so the client side can make it
 * close or ping. Runtime-agnostic: the one copy drives the Deno and the Bun adapters' pairs (packages/deno/test and
 * packages/bun/test import it from here).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

export type Msg = string | Uint8Array;
export interface CloseSeen {
  code: number;
  reason: string;
}

export interface ClientSide {
  protocol: string;
  extensions: string;
  /** Queues a message (does not wait: many may be in flight). */
  send(m: Msg): void;
  /** The next message received. */
  next(): Promise<Msg>;
  /** Client-initiated ping resolving on its pong, where the client API has one. */
  ping?: () => Promise<void>;
  close(code: number, reason: string): void;
  closed: Promise<CloseSeen>;
}

export interface ServerSide {
  url: string;
  /** Close code and reason seen by the server on the most recent connection. */
  lastClose(): Promise<CloseSeen>;
  /** The server can ping and report the pong (command \u0001ping answers \u0001pong). */
  canPing: boolean;
  stop(): Promise<void>;
}

export interface PairSpec {
  name: string;
  server(): Promise<ServerSide>;
  client(url: string, protocols: string[]): Promise<ClientSide>;
  /** Both sides were set up with permessage-deflate and support it. */
  deflate: boolean;
  /** Per-test time bound, ms. Default 15 000. */
  timeout?: number;
}

export const CMD = '\u0001';
export const BIG = 16 * 1024 * 1024;

/** Deterministic bytes, half compressible (runs) and half noise, so deflate has real work but stays fast. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    if ((i >> 10) & 1) out[i] = (i >> 11) & 0xff;
    else {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function asBytes(m: Msg): Uint8Array {
  assert.ok(m instanceof Uint8Array, `expected binary, got ${typeof m}`);
  return m as Uint8Array;
}

const TEXT = 'héllo wörld ✓ — 日本語 🚀 \u{10FFFF}';

export function pairSuite(spec: PairSpec): void {
  const s = suite(spec.name);
  const ms = spec.timeout ?? 15_000;
  let server: ServerSide | undefined;
  let c: ClientSide | undefined;
  const client = (): ClientSide => {
    assert.ok(c, 'client not open');
    return c!;
  };

  s.before(async () => {
    server = await within(ms, spec.server(), 'server start');
  });
  s.after(async () => {
    await within(ms, server?.stop() ?? Promise.resolve(), 'server stop');
  });

  s('opens; the subprotocol is negotiated', async () => {
    c = await within(ms, spec.client(server!.url + '/echo?x=1', ['x-unknown', 'chat']), 'open');
    assert.is(c.protocol, 'chat');
    if (spec.deflate) assert.ok(/permessage-deflate/.test(c.extensions), `extensions: ${c.extensions}`);
    else assert.is(c.extensions, '');
  });

  s('text (non-ASCII UTF-8)', async () => {
    client().send(TEXT);
    assert.is(await within(ms, client().next(), 'echo'), TEXT);
  });

  s('binary', async () => {
    const b = bytes(1000, 7);
    client().send(b.slice());
    assert.ok(sameBytes(asBytes(await within(ms, client().next(), 'echo')), b));
  });

  s('empty text and empty binary messages', async () => {
    client().send('');
    client().send(new Uint8Array(0));
    assert.is(await within(ms, client().next(), 'echo'), '');
    const e = asBytes(await within(ms, client().next(), 'echo'));
    assert.is(e.byteLength, 0);
  });

  s('a 16 MiB message', async () => {
    const b = bytes(BIG, 3);
    client().send(b.slice());
    const got = asBytes(await within(ms, client().next(), 'echo of 16 MiB'));
    assert.is(got.byteLength, BIG);
    assert.ok(sameBytes(got, b), '16 MiB echo differs');
  });

  s('10,000 small messages in flight, order kept', async () => {
    const n = 10_000;
    for (let i = 0; i < n; i++) client().send(i % 2 ? `m${i}` : new Uint8Array([i & 0xff, i >> 8, 0x5a]));
    for (let i = 0; i < n; i++) {
      const m = await within(ms, client().next(), `echo #${i}`);
      if (i % 2) {
        if (m !== `m${i}`) assert.unreachable(`message ${i}: ${String(m)}`);
      } else {
        const b = asBytes(m);
        if (b.byteLength !== 3 || b[0] !== (i & 0xff) || b[1] !== i >> 8 || b[2] !== 0x5a) assert.unreachable(`message ${i} differs`);
      }
    }
  });

  s('ping from the client is answered', async () => {
    const ping = c?.ping;
    if (!ping) return; // this client API has no ping (browser-style WebSocket)
    await within(ms, ping(), 'pong');
    await within(ms, ping(), 'second pong');
  });

  s('ping from the server is answered', async () => {
    if (!server!.canPing) return;
    client().send(`${CMD}ping`);
    assert.is(await within(ms, client().next(), 'server saw pong'), `${CMD}pong`);
  });

  s('client close: code and reason arrive at the server', async () => {
    const cl = client();
    cl.close(4001, 'client bye ✓');
    const [mine, theirs] = await within(ms, Promise.all([cl.closed, server!.lastClose()]), 'close');
    assert.equal(theirs, { code: 4001, reason: 'client bye ✓' });
    assert.equal(mine, { code: 4001, reason: 'client bye ✓' });
    c = undefined;
  });

  s('server close: code and reason arrive at the client', async () => {
    const cl = await within(ms, spec.client(server!.url + '/again', ['chat']), 'open');
    cl.send('hi');
    assert.is(await within(ms, cl.next(), 'echo'), 'hi');
    cl.send(`${CMD}close 4002 server bye ✓`);
    assert.equal(await within(ms, cl.closed, 'close'), { code: 4002, reason: 'server bye ✓' });
  });

  s.run();
}

/** Parses a server command; null when `m` is an ordinary message to echo. */
export function parseCommand(m: Msg): { kind: 'close'; code: number; reason: string } | { kind: 'ping' } | null {
  if (typeof m !== 'string' || !m.startsWith(CMD)) return null;
  const body = m.slice(1);
  if (body === 'ping') return { kind: 'ping' };
  const r = /^close (\d+) (.*)$/s.exec(body);
  if (r) return { kind: 'close', code: Number(r[1]), reason: r[2]! };
  return null;
}

/** A one-shot promise with its resolver. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Incoming-message queue for event-style clients. */
export class Inbox {
  private items: Msg[] = [];
  private waiters: Array<{ resolve: (m: Msg) => void; reject: (e: unknown) => void }> = [];
  private ended: unknown = null;
  push(m: Msg): void {
    const w = this.waiters.shift();
    if (w) w.resolve(m);
    else this.items.push(m);
  }
  end(reason: unknown): void {
    this.ended = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }
  next(): Promise<Msg> {
    if (this.items.length) return Promise.resolve(this.items.shift()!);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

/**
 * Outside the adapter's runtime (e.g. `node packages/devtools/test.mjs deno` without `--runtime deno`) there is
 * nothing to test: register one skipped test so the run still prints uvu's summary, as "skipped".
 */
export function skipOutside(runtime: string, file: string): void {
  const s = suite(`${file}`);
  s.skip(`runs in ${runtime} only`, () => {});
  s.run();
}

// ------------------------------------------------------------------------------------------------ our adapter's sides

/** Largest message the sides accept (the suite sends 16 MiB). */
export const SIDE_MAX_MESSAGE = 32 * 1024 * 1024;

interface AdapterOpened { readable: ReadableStream<Msg>; writable: WritableStream<Msg>; protocol: string; extensions: string }
/** The WebSocketStream of any of our adapters, as far as the sides use it. */
export interface AdapterWebSocketStream {
  opened: Promise<AdapterOpened>;
  closed: Promise<{ closeCode: number; reason: string }>;
  close(info?: { closeCode?: number; reason?: string }): void;
  ping(): Promise<unknown>;
}
/** An adapter's serve(), as far as the sides use it. */
export type AdapterServe = (options: Record<string, unknown>, handler: (ws: AdapterWebSocketStream) => unknown) => { url: string; close(): Promise<void> };
/** An adapter's connect(), as far as the sides use it. */
export type AdapterConnect = (url: string, options: Record<string, unknown>) => AdapterWebSocketStream;

/** Our server (any adapter's serve()), echoing and obeying the suite's commands; `extra` are serve() options. */
export async function adapterServer(serve: AdapterServe, extra: Record<string, unknown> = {}): Promise<ServerSide> {
  let last = deferred<CloseSeen>();
  const server = serve({ hostname: '127.0.0.1', port: 0, protocols: ['chat'], maxMessageSize: SIDE_MAX_MESSAGE, ...extra }, async (ws) => {
    const seen = deferred<CloseSeen>();
    last = seen;
    ws.closed.then(
      (c) => seen.resolve({ code: c.closeCode, reason: c.reason }),
      (e: { closeCode?: number }) => seen.resolve({ code: e.closeCode ?? 1006, reason: '' }),
    );
    const { readable, writable } = await ws.opened;
    const w = writable.getWriter();
    try {
      for await (const m of readable as unknown as AsyncIterable<Msg>) {
        const cmd = parseCommand(m);
        if (!cmd) await w.write(m);
        else if (cmd.kind === 'close') ws.close({ closeCode: cmd.code, reason: cmd.reason });
        else await ws.ping().then(() => w.write(`${CMD}pong`));
      }
    } catch {
      /* the connection ended abruptly: the test sees it on its side */
    }
  });
  return {
    url: server.url,
    lastClose: () => last.promise,
    canPing: true,
    stop: () => server.close(),
  };
}

/** Our client (any adapter's connect(), WebSocketStream API); `extra` are connect() options. */
export async function adapterClient(connect: AdapterConnect, url: string, protocols: string[], extra: Record<string, unknown> = {}): Promise<ClientSide> {
  const ws = connect(url, { protocols, maxMessageSize: SIDE_MAX_MESSAGE, ...extra });
  const o = await ws.opened;
  const reader = o.readable.getReader();
  const writer = o.writable.getWriter();
  return {
    protocol: o.protocol,
    extensions: o.extensions,
    send: (m) => void writer.write(m).catch(() => {}),
    next: async () => {
      const r = await reader.read();
      if (r.done) throw new Error('readable ended');
      return r.value;
    },
    ping: () => ws.ping().then(() => {}),
    close: (code, reason) => ws.close({ closeCode: code, reason }),
    closed: ws.closed.then((c) => ({ code: c.closeCode, reason: c.reason })),
  };
}
