/**
 * Interop of OUR Node server with Chromium's own WebSocket clients: the `WebSocket` and `WebSocketStream` that
 * Chromium ships, driven headless by playwright-core, on loopback.
 *
 * A tiny node:http server (127.0.0.1, port 0) serves the page, so the page's origin is a real
 * `http://127.0.0.1:<port>` and our servers can hold an `origins` policy naming exactly it. Inside the page, a
 * small plain-JS library (PAGE_LIB below; a string so that nothing esbuild does to this file can leak into the
 * page) wraps both APIs behind one `open()` and runs the scenarios; page.evaluate() returns plain results and
 * the assertions live here, next to what our server recorded for the same connection (each connection asks for
 * its own path `/c/<id>`, the handler keys its record by the request target).
 *
 * Chromium always offers permessage-deflate (`permessage-deflate; client_max_window_bits`), so the server variants
 * (VARIANTS) decide: declined, accepted with our defaults (messages under 1 KiB go uncompressed), accepted with
 * every message compressed (threshold 0, context takeover: the long-lived compression state both ways), and
 * accepted with the parameters turned the other way (no context takeover both ways, 10-bit windows both ways,
 * which Chromium's offer allows the server to impose).
 *
 * Echo server protocol: every message goes back as it came, except the text commands `__ping` (the server pings
 * and answers `ping ok`), `__close <code> <reason>` and `__flood <MiB>` (the server writes that many MiB in 1 MiB
 * messages as fast as its writer's backpressure lets it, then 'end').
 *
 * playwright-core and Chromium are provided by the lead's runner (packages/devtools/runtimes.mjs ensureTools());
 * when they are missing every test FAILS with a message saying so: a silent skip would read as green.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import type net from 'node:net';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  serve, type WebSocketStream, type WebSocketServer, type ConnectionInfo, type ServeOptions, type WebSocketHandler,
} from '../src/index.js';
import { within } from './helpers.js';
import { closeCommand } from './checklist.js';

const CHROMIUM = '/usr/bin/chromium';
const BIG = 16 * 1024 * 1024; // the default maxMessageSize: the largest message our server takes by default
const MANY = 10_000;

interface Variant {
  name: string;
  deflate: NonNullable<ServeOptions['deflate']>;
  /** What the 101's Sec-WebSocket-Extensions must say (as Chromium reports it), or '' when declined. */
  extensions: RegExp[] | '';
  /** Which bulk tests run against it: each costs seconds, so only where they exercise a different path. */
  big: boolean;
  many: boolean;
}
const VARIANTS: Variant[] = [
  { name: 'permessage-deflate declined', deflate: false, extensions: '', big: true, many: true },
  // Chromium compresses every message it sends once deflate is agreed, so the 10,000 of the next variant (where
  // our server compresses every echo too) cover this one's.
  { name: 'permessage-deflate accepted', deflate: true, extensions: [/^permessage-deflate/], big: true, many: false },
  {
    name: 'permessage-deflate accepted, every message compressed',
    deflate: { threshold: 0 },
    extensions: [/^permessage-deflate/],
    big: false,
    many: true,
  },
  {
    name: 'permessage-deflate accepted, no context takeover, 10-bit windows',
    deflate: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
    extensions: [/^permessage-deflate/, /server_no_context_takeover/, /client_no_context_takeover/, /server_max_window_bits=10/, /client_max_window_bits=10/],
    big: false,
    many: false,
  },
];

// ------------------------------------------------------------------------------------------------ page side
const PAGE_LIB = String.raw`
'use strict';
const within = (p, ms, what) => {
  let t;
  return Promise.race([p.finally(() => clearTimeout(t)),
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(what + ' timed out after ' + ms + ' ms')), ms); })]);
};
const kind = (d) => (typeof d === 'string' ? 'string' : Object.prototype.toString.call(d).slice(8, -1));
const bytesOf = (d) => (d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
// Deterministic content: in every 4 KiB block the first 256 bytes are pseudo-random, the rest repeats the block
// before (every other block with the low bit flipped). All 256 byte values occur, and deflate finds long matches,
// so the compressed runs stay quick on a shared machine (~7 % ratio) while still compressing for real.
// Same generator on the Node side.
function gen(n, seed) {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    if (i < 4096 || (i & 4095) < 256) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; b[i] = x >>> 24; }
    else b[i] = b[i - 4096] ^ ((i >>> 12) & 1);
  }
  return b;
}
function fnv(b) { let h = 0x811c9dc5; for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193); return h >>> 0; }
function needStream() {
  if (typeof WebSocketStream !== 'function')
    throw new Error('WebSocketStream is not available in this Chromium (typeof WebSocketStream === ' + typeof WebSocketStream + '; ' + navigator.userAgent + ')');
}

function open(api, url, protocols) {
  if (api === 'WebSocket') return openWebSocket(url, protocols);
  needStream();
  return openStream(url, protocols);
}

async function openWebSocket(url, protocols) {
  const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const queue = [];
  const events = [];
  let waiter = null;
  let closeInfo = null;
  const closed = new Promise((resolve) => {
    ws.onclose = (e) => {
      events.push('close');
      closeInfo = { code: e.code, reason: e.reason, wasClean: e.wasClean };
      resolve(closeInfo);
      if (waiter) waiter.reject(new Error('closed with ' + e.code + ' while waiting for a message'));
      waiter = null;
    };
  });
  ws.onerror = () => events.push('error');
  ws.onmessage = (e) => {
    const m = { kind: kind(e.data), data: typeof e.data === 'string' ? e.data : new Uint8Array(e.data) };
    if (waiter) { const w = waiter; waiter = null; w.resolve(m); } else queue.push(m);
  };
  await within(new Promise((resolve, reject) => {
    ws.onopen = () => { events.push('open'); resolve(); };
    closed.then((c) => reject(new Error('closed before open: ' + c.code + ' (events: ' + events.join(',') + ')')));
  }), 5000, 'WebSocket open');
  return {
    protocol: ws.protocol,
    extensions: ws.extensions,
    events,
    send: (m) => ws.send(m),
    next: () => {
      if (queue.length) return Promise.resolve(queue.shift());
      if (closeInfo) return Promise.reject(new Error('closed (' + closeInfo.code + ') while waiting for a message'));
      return within(new Promise((resolve, reject) => { waiter = { resolve, reject }; }), 20000, 'message');
    },
    close: (code, reason) => ws.close(code, reason),
    closed: () => within(closed, 5000, 'close event'),
    flushed: async () => {
      const end = Date.now() + 20000;
      while (ws.bufferedAmount > 0) {
        if (Date.now() > end) throw new Error('bufferedAmount never drained');
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

async function openStream(url, protocols) {
  const s = protocols ? new WebSocketStream(url, { protocols }) : new WebSocketStream(url);
  const closedP = s.closed.then(
    (c) => ({ code: c.closeCode, reason: c.reason, wasClean: true }),
    (e) => ({ code: e && e.closeCode, reason: (e && e.reason) || '', wasClean: false, error: String(e) }));
  const o = await within(s.opened, 5000, 'WebSocketStream opened');
  const reader = o.readable.getReader();
  const writer = o.writable.getWriter();
  const writes = [];
  return {
    protocol: o.protocol,
    extensions: o.extensions,
    // Not awaited: sending without waiting is the point; flushed() collects the outcomes.
    send: (m) => { const p = writer.write(m); p.catch(() => {}); writes.push(p); },
    next: async () => {
      const r = await within(reader.read(), 20000, 'read');
      if (r.done) throw new Error('readable ended while waiting for a message');
      return { kind: kind(r.value), data: typeof r.value === 'string' ? r.value : bytesOf(r.value) };
    },
    close: (code, reason) => s.close(code === undefined ? undefined : { closeCode: code, reason: reason || '' }),
    closed: () => within(closedP, 5000, 'closed'),
    flushed: () => within(Promise.all(writes.splice(0)), 20000, 'writes settled'),
  };
}

const describe = (r) => ({ kind: r.kind, text: typeof r.data === 'string' ? r.data : null,
  bytes: typeof r.data === 'string' ? null : Array.from(r.data) });

window.T = {
  probe() {
    return { userAgent: navigator.userAgent, webSocket: typeof WebSocket, webSocketStream: typeof WebSocketStream };
  },
  async messages(api, url) {
    const c = await open(api, url);
    const out = { protocol: c.protocol, extensions: c.extensions, got: [] };
    const bin = new Uint8Array(1500);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7 + 3) & 0xff;
    const ab = new Uint8Array([0, 1, 2, 127, 128, 253, 254, 255]).buffer;
    for (const m of ['héllo wörld ✓ 🚀', bin, ab, '', new Uint8Array(0), new ArrayBuffer(0)]) {
      c.send(m);
      out.got.push(describe(await c.next()));
    }
    // A long non-ASCII text (2-, 3- and 4-byte sequences, ~1 MiB of UTF-8): code points cross every frame and
    // read-chunk boundary on the way, in both directions.
    const long = 'ü✓🚀a'.repeat(100000);
    c.send(long);
    const back = await c.next();
    out.long = { kind: back.kind, same: back.data === long, length: typeof back.data === 'string' ? back.data.length : -1 };
    c.close(1000, 'done');
    out.closed = await c.closed();
    return out;
  },
  async large(api, url, n, seed) {
    const c = await open(api, url);
    const big = gen(n, seed);
    const sentSum = fnv(big);
    const t0 = performance.now();
    // '__ping' first: our server pings while the 16 MiB is arriving, so Chromium's pong has to travel
    // with (or between the frames of) the big message.
    c.send('__ping');
    c.send(big);
    const pong = await c.next();
    const r = await c.next();
    const ms = Math.round(performance.now() - t0);
    const isText = typeof r.data === 'string';
    const out = { pong: pong.data, kind: r.kind, len: isText ? -1 : r.data.byteLength, sentSum, gotSum: isText ? -1 : fnv(r.data), ms };
    c.close(1000);
    out.closed = await c.closed();
    return out;
  },
  async many(api, url, n) {
    const c = await open(api, url);
    const t0 = performance.now();
    const reading = (async () => {
      for (let i = 0; i < n; i++) {
        const r = await c.next();
        if (i % 2 === 0) {
          if (r.data !== 'm' + i) return { at: i, kind: r.kind, got: String(r.data).slice(0, 40) };
        } else if (r.kind === 'string' || r.data.byteLength !== 4 || new DataView(r.data.buffer, r.data.byteOffset, 4).getUint32(0) !== i) {
          return { at: i, kind: r.kind, got: String(r.data).slice(0, 40) };
        }
      }
      return null;
    })();
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) c.send('m' + i);
      else { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, i); c.send(b); }
    }
    const bad = await reading;
    await c.flushed();
    const ms = Math.round(performance.now() - t0);
    c.close(1000);
    return { bad, ms, closed: await c.closed() };
  },
  async protocolPing(api, url, offer) {
    const c = await open(api, url, offer);
    c.send('__ping');
    const r = await c.next();
    c.close(1000);
    return { protocol: c.protocol, extensions: c.extensions, reply: r.data, closed: await c.closed() };
  },
  async flood(api, url, mib, holdMs) {
    const c = await open(api, url);
    c.send('__flood ' + mib);
    // Not reading: a WebSocketStream must push back on our server through the TCP window.
    await new Promise((r) => setTimeout(r, holdMs));
    const readingFrom = Date.now();
    let got = 0;
    for (;;) {
      const r = await c.next();
      if (r.kind === 'string') { if (r.data !== 'end') throw new Error('unexpected text ' + r.data); break; }
      got += r.data.byteLength;
    }
    c.close(1000);
    return { readingFrom, got, closed: await c.closed() };
  },
  async clientCloseWith(api, url, code, reason) {
    const c = await open(api, url);
    c.close(code, reason);
    return c.closed();
  },
  async justWait(api, url) {
    const c = await open(api, url);
    return c.closed();
  },
  async clientCloseNoCode(api, url) {
    const c = await open(api, url);
    c.close();
    return c.closed();
  },
  async serverShutdown(api, url) {
    const c = await open(api, url);
    c.send('ready');
    await c.next();
    return c.closed();
  },
  async clientClose(api, url) {
    const c = await open(api, url);
    c.close(4001, 'bye');
    return c.closed();
  },
  async serverClose(api, url) {
    const c = await open(api, url);
    c.send('__close 4002 server bye');
    return c.closed();
  },
  async refused(api, url) {
    if (api === 'WebSocket') {
      const ws = new WebSocket(url);
      const events = [];
      return within(new Promise((resolve) => {
        ws.onopen = () => events.push('open');
        ws.onerror = () => events.push('error');
        ws.onclose = (e) => { events.push('close'); resolve({ events, code: e.code, reason: e.reason, wasClean: e.wasClean }); };
      }), 5000, 'refusal events');
    }
    needStream();
    const s = new WebSocketStream(url);
    const outcome = (p) => p.then((v) => ({ ok: true, value: v && v.closeCode }),
      (e) => ({ ok: false, name: e && e.name, closeCode: e && e.closeCode, message: String(e && e.message) }));
    const opened = await within(outcome(s.opened), 5000, 'opened settles');
    const closed = await within(outcome(s.closed), 5000, 'closed settles');
    return { opened, closed };
  },
};
`;

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>streamsocket interop</title><script>${PAGE_LIB}</script>`;

// ------------------------------------------------------------------------------------------------ node side
/** Same generator and checksum as the page's, to know independently what 16 MiB the page must have sent. */
function gen(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    if (i < 4096 || (i & 4095) < 256) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[i] = x >>> 24;
    } else b[i] = b[i - 4096]! ^ ((i >>> 12) & 1);
  }
  return b;
}
function fnv(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

const BIG_SEED = 0x5eed;
let bigSumCache = 0;
/** Checksum of the 16 MiB the page generates, computed here once. */
const bigSum = (): number => (bigSumCache ||= fnv(gen(BIG, BIG_SEED)));

/** What our server saw on one connection. */
interface ConnRecord {
  extensions: string;
  protocol: string;
  origin: string | undefined;
  /** The first messages as received (text, or bytes for small binary). */
  received: Array<{ text: string } | { textLength: number } | { bytes: number[] } | { blobSize: number }>;
  big: Array<{ len: number; sum: number }>;
  count: number;
  ping?: { ok: boolean; ms: number; error?: string };
  /** `__flood`: when (Date.now()) each 1 MiB message was handed to the writer, and the total by then. */
  floodWrites?: Array<{ at: number; sent: number }>;
  closed: Promise<{ closeCode?: number; reason?: string; error?: string }>;
}

/** The slice of playwright-core's API used here (it is loaded at run time, outside the bundle). */
interface Page {
  goto(url: string): Promise<unknown>;
  evaluate<T>(expression: string): Promise<T>;
  on(event: 'console', f: (m: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', f: (e: Error) => void): void;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

interface Env {
  browser: Browser;
  page: Page;
  web: http.Server;
  origin: string;
  /** One echo server per variant (by name). */
  servers: Map<string, WebSocketServer>;
  refusing: WebSocketServer;
  /** Our server with `webSocket: true`: the handler gets a WHATWG WebSocket (default binaryType 'blob'). */
  wsMode: WebSocketServer;
  records: Map<string, ConnRecord>;
  console: string[];
  refusingHandlerCalls: number;
  /** First bytes our refusing server wrote on each socket (its answer to the page). */
  refusingWrites: string[];
}

function findRoot(): string {
  // The test runs as a bundle under packages/node/.test-build/...: walk up to the workspace root.
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(d, 'packages', 'devtools', 'browser.mjs'))) return d;
    const up = dirname(d);
    if (up === d) throw new Error(`workspace root (with packages/devtools/browser.mjs) not found above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
}

function recordingHandler(records: Map<string, ConnRecord>) {
  return async (ws: WebSocketStream, info: ConnectionInfo): Promise<void> => {
    const rec: ConnRecord = {
      extensions: '',
      protocol: '',
      origin: info.request.headers.get('origin') ?? undefined,
      received: [],
      big: [],
      count: 0,
      closed: ws.closed.then(
        (c) => ({ closeCode: c.closeCode, reason: c.reason }),
        (e: unknown) => ({ error: String(e), ...(typeof (e as { closeCode?: unknown }).closeCode === 'number' ? { closeCode: (e as { closeCode: number }).closeCode } : {}) }),
      ),
    };
    records.set(info.request.target, rec);
    const opened = await ws.opened;
    rec.extensions = opened.extensions;
    rec.protocol = opened.protocol;
    const w = opened.writable.getWriter();
    try {
      for await (const m of opened.readable as unknown as AsyncIterable<string | Uint8Array>) {
        rec.count++;
        if (rec.received.length < 16) {
          if (typeof m !== 'string') rec.received.push({ bytes: m.byteLength <= 4096 ? Array.from(m) : [] });
          else rec.received.push(m.length <= 4096 ? { text: m } : { textLength: m.length });
        }
        if (typeof m !== 'string' && m.byteLength >= 1 << 20) rec.big.push({ len: m.byteLength, sum: fnv(m) });
        if (m === '__ping') {
          const t0 = Date.now();
          try {
            await within(ws.ping(new Uint8Array([0x70, 0x69, 0x6e, 0x67])), 5000, 'pong');
            rec.ping = { ok: true, ms: Date.now() - t0 };
          } catch (e) {
            rec.ping = { ok: false, ms: Date.now() - t0, error: String(e) };
          }
          await w.write(rec.ping.ok ? 'ping ok' : `ping failed: ${rec.ping.error}`);
          continue;
        }
        const flood = typeof m === 'string' ? /^__flood (\d+)$/.exec(m) : null;
        if (flood) {
          const chunk = new Uint8Array(1 << 20).fill(0x5a);
          const total = Number(flood[1]) * chunk.byteLength;
          const log: Array<{ at: number; sent: number }> = (rec.floodWrites = []);
          for (let sent = 0; sent < total;) {
            await w.ready; // the backpressure under test
            w.write(chunk).catch(() => {});
            sent += chunk.byteLength;
            log.push({ at: Date.now(), sent });
          }
          await w.write('end');
          continue;
        }
        const cmd = closeCommand(m);
        if (cmd) ws.close({ closeCode: cmd.code, reason: cmd.reason });
        else await w.write(m);
      }
    } catch {
      /* the connection ended; `closed` tells how */
    }
  };
}

/**
 * The same echo written against the WHATWG WebSocket our server hands out with `webSocket: true`. binaryType is
 * left at its default, 'blob': binary echoes go back through send(Blob), whose bytes are read asynchronously, so
 * alternating text and binary messages also check that send() keeps the order.
 */
function webSocketModeHandler(records: Map<string, ConnRecord>): WebSocketHandler {
  return (ws, info) => {
    let closed!: (c: { closeCode?: number; reason?: string }) => void;
    const rec: ConnRecord = {
      extensions: ws.extensions,
      protocol: ws.protocol,
      origin: info.request.headers.get('origin') ?? undefined,
      received: [],
      big: [],
      count: 0,
      closed: new Promise((resolve) => (closed = resolve)),
    };
    records.set(info.request.target, rec);
    // The session's WebSocket is a plain EventTarget to TypeScript: its events are typed here.
    ws.addEventListener('close', (e) => {
      const c = e as unknown as { code: number; reason: string };
      closed({ closeCode: c.code, reason: c.reason });
    });
    ws.addEventListener('message', (e) => {
      const m = (e as unknown as { data: unknown }).data;
      rec.count++;
      if (rec.received.length < 16) {
        if (typeof m === 'string') rec.received.push(m.length <= 4096 ? { text: m } : { textLength: m.length });
        else rec.received.push(m instanceof Blob ? { blobSize: m.size } : { bytes: [] });
      }
      const cmd = closeCommand(m);
      if (cmd) ws.close(cmd.code, cmd.reason);
      else ws.send(m as string | Blob);
    });
  };
}

async function setup(): Promise<Env> {
  const root = findRoot();
  const pwDir = join(root, '.tools', 'node_modules', 'playwright-core');
  if (!existsSync(join(pwDir, 'package.json'))) {
    throw new Error(`playwright-core is missing (${pwDir}): these tests need it and Chromium; the test runner installs both ` +
      '(packages/devtools/runtimes.mjs ensureTools(), run by `npm test`)');
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing (${CHROMIUM}): these tests need it; the test runner installs it ` +
      '(packages/devtools/runtimes.mjs ensureTools(), apt-get install chromium)');
  }
  // The flags the lead's browser runner uses (sandbox-less, offline machine); imported, not copied, to stay in step.
  const browserMjs = pathToFileURL(join(root, 'packages', 'devtools', 'browser.mjs')).href;
  const { chromiumArgs } = (await import(browserMjs)) as { chromiumArgs: string[] };
  const req = createRequire(join(root, '.tools', 'package.json'));
  const { chromium } = req('playwright-core') as {
    chromium: { launch(o: { executablePath: string; headless: boolean; args: string[]; timeout: number }): Promise<Browser> };
  };

  const web = http.createServer((rq, rs) => {
    if (rq.url === '/') {
      rs.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      rs.end(PAGE_HTML);
    } else {
      rs.writeHead(404);
      rs.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    web.once('error', reject);
    web.listen(0, '127.0.0.1', () => resolve());
  });
  state.web = web;
  const origin = `http://127.0.0.1:${(web.address() as net.AddressInfo).port}`;

  const records = new Map<string, ConnRecord>();
  const st = state;
  Object.assign(st, { origin, records, console: [], refusingHandlerCalls: 0, refusingWrites: [] });
  const common = { hostname: '127.0.0.1', port: 0, origins: [origin], protocols: ['mqtt', 'chat'] };
  st.servers = new Map(VARIANTS.map((v) => [v.name, serve({ ...common, deflate: v.deflate }, recordingHandler(records))]));
  const refusing = serve({ hostname: '127.0.0.1', port: 0, origins: ['http://other.example'] }, () => {
    st.refusingHandlerCalls!++;
  });
  // Spy on what the refusing server answers: the first bytes written to each accepted socket.
  refusing.server.on('connection', (s: net.Socket) => {
    const orig = s.write;
    let first = true;
    s.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
      if (first && chunk instanceof Uint8Array) {
        first = false;
        st.refusingWrites!.push(Buffer.from(chunk).toString('latin1'));
      }
      return (orig as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof s.write;
  });
  st.refusing = refusing;
  st.wsMode = serve({ ...common, webSocket: true }, webSocketModeHandler(records));
  await Promise.all([...st.servers.values(), refusing, st.wsMode].map((x) => x.ready));

  const browser = await within(chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs, timeout: 20_000 }), 25_000, 'chromium launch');
  st.browser = browser;
  const page = await browser.newPage();
  page.on('console', (m) => st.console!.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => st.console!.push(`pageerror: ${e.message}`));
  await within(page.goto(`${origin}/`), 10_000, 'page load');
  st.page = page;
  return st as Env;
}

/** Filled as setup goes, so teardown closes whatever was started even when a later step failed. */
const state: Partial<Env> = {};
let envP: Promise<Env> | null = null;
const env = (): Promise<Env> => (envP ??= setup());

let seq = 0;
const timings: string[] = [];

/** Runs one page scenario against `server` on a fresh connection path; returns the page's result and our record. */
async function run<T>(e: Env, server: WebSocketServer, fn: string, api: string, args: unknown[] = [], ms = 20_000): Promise<{ r: T; rec: () => ConnRecord; url: string }> {
  const path = `/c/${++seq}-${fn}`;
  const url = `ws://127.0.0.1:${server.port}${path}`;
  const r = await within(e.page.evaluate<T>(`T.${fn}(${[api, url, ...args].map((a) => JSON.stringify(a)).join(', ')})`), ms, `${api} ${fn} in the page`);
  const rec = (): ConnRecord => {
    const x = e.records.get(path);
    if (!x) throw new Error(`our server recorded no connection for ${path}`);
    return x;
  };
  return { r, rec, url };
}

/**
 * The whole file is bounded: besides its own bound, each test gets at most what is left of this budget (counted
 * from the first test, Chromium's launch included), so a slow machine fails tests with a clear message instead of
 * running into the runner's 180 s kill. It takes 20-30 s here; 100 s leaves room for a machine three times as
 * loaded (the runner's other suites, a CI neighbour) without hiding a hang. Teardown is bounded separately.
 */
const FILE_BUDGET_MS = 100_000;
let fileDeadline = 0;

/** Wraps a test body: bounded, timed. */
function t(name: string, ms: number, body: (e: Env) => Promise<void>): void {
  test(name, async () => {
    const t0 = Date.now();
    fileDeadline ||= t0 + FILE_BUDGET_MS;
    const left = (): number => fileDeadline - Date.now();
    if (left() <= 0) assert.unreachable(`the file's time budget (${FILE_BUDGET_MS / 1000} s) ran out before this test`);
    const e = await within(env(), Math.min(40_000, left()), 'setup (http server, our servers, Chromium)');
    const bound = Math.min(ms, left());
    await within(body(e), bound, `${name} (bound ${bound} ms${bound < ms ? ': what was left of the file budget' : ''})`);
    timings.push(`${String(Date.now() - t0).padStart(6)} ms  ${name}`);
  });
}

interface CloseResult { code: number; reason: string; wasClean: boolean; error?: string }

t('Chromium is there and ships WebSocketStream', 10_000, async (e) => {
  const p = await e.page.evaluate<{ userAgent: string; webSocket: string; webSocketStream: string }>('T.probe()');
  assert.is(p.webSocket, 'function');
  if (p.webSocketStream !== 'function') {
    assert.unreachable(`WebSocketStream is missing in this Chromium (typeof WebSocketStream === '${p.webSocketStream}'; ${p.userAgent})`);
  }
});

const apis = ['WebSocket', 'WebSocketStream'];

const tagOf = (api: string, v: Variant): string => `${api} → our server, ${v.name}`;
const serverOf = (e: Env, v: Variant): WebSocketServer => e.servers.get(v.name)!;
const checkExtensions = (got: string, v: Variant): void => {
  if (v.extensions === '') assert.is(got, '', 'permessage-deflate declined');
  else for (const re of v.extensions) assert.match(got, re);
};

// The protocol checks first, the heavy ones (16 MiB, 10,000 messages) last: on a slow machine the file budget
// then cuts the bulk tests, not the semantics.
for (const api of apis) {
  for (const v of VARIANTS) {
    const tag = tagOf(api, v);
    const srv = (e: Env): WebSocketServer => serverOf(e, v);

    t(`${tag}: non-ASCII text (short and ~1 MiB), binary (Uint8Array, ArrayBuffer), empty text and binary`, 10_000, async (e) => {
      interface Got { kind: string; text: string | null; bytes: number[] | null }
      const { r, rec } = await run<{ protocol: string; extensions: string; got: Got[]; long: unknown; closed: CloseResult }>(e, srv(e), 'messages', api);
      checkExtensions(r.extensions, v);
      assert.is(r.protocol, '');
      const bin = Array.from({ length: 1500 }, (_, i) => (i * 7 + 3) & 0xff);
      const ab = [0, 1, 2, 127, 128, 253, 254, 255];
      const [text, b1, b2, emptyText, emptyBin, emptyAb] = r.got;
      assert.equal(text, { kind: 'string', text: 'héllo wörld ✓ 🚀', bytes: null });
      assert.ok(b1 && b1.kind !== 'string', `binary came back as ${b1?.kind}`);
      assert.equal(b1!.bytes, bin, 'Uint8Array bytes');
      assert.ok(b2 && b2.kind !== 'string');
      assert.equal(b2!.bytes, ab, 'ArrayBuffer bytes');
      assert.equal(emptyText, { kind: 'string', text: '', bytes: null }, 'empty text stays text');
      assert.ok(emptyBin && emptyBin.kind !== 'string', 'empty binary stays binary');
      assert.equal(emptyBin!.bytes, []);
      assert.ok(emptyAb && emptyAb.kind !== 'string');
      assert.equal(emptyAb!.bytes, []);
      assert.equal(r.long, { kind: 'string', same: true, length: 500_000 }, '~1 MiB non-ASCII text');
      assert.equal(r.closed, { code: 1000, reason: 'done', wasClean: true });
      // What our server decoded, independently of the echo.
      const x = rec();
      assert.is(x.origin, e.origin);
      checkExtensions(x.extensions, v);
      assert.equal(x.received, [
        { text: 'héllo wörld ✓ 🚀' }, { bytes: bin }, { bytes: ab }, { text: '' }, { bytes: [] }, { bytes: [] }, { textLength: 500_000 },
      ]);
      assert.equal(await within(x.closed, 5000, 'server closed'), { closeCode: 1000, reason: 'done' });
    });

    t(`${tag}: subprotocol (server prefers mqtt) and server-initiated ping`, 10_000, async (e) => {
      for (const offer of [['mqtt', 'chat'], ['chat', 'mqtt']]) {
        const { r, rec } = await run<{ protocol: string; extensions: string; reply: string; closed: CloseResult }>(e, srv(e), 'protocolPing', api, [offer]);
        assert.is(r.protocol, 'mqtt', `offered ${offer.join(',')}`);
        assert.is(rec().protocol, 'mqtt');
        assert.is(r.reply, 'ping ok', "our ping() resolved on Chromium's automatic pong");
        assert.ok(rec().ping?.ok);
        assert.is(r.closed.code, 1000);
      }
    });

    t(`${tag}: page closes with 4001 'bye' → our server's closed`, 10_000, async (e) => {
      const { r, rec } = await run<CloseResult>(e, srv(e), 'clientClose', api);
      assert.equal(await within(rec().closed, 5000, 'server closed'), { closeCode: 4001, reason: 'bye' });
      assert.is(r.code, 4001);
      assert.is(r.wasClean, true);
    });

    t(`${tag}: our server closes with 4002 'server bye' → the page`, 10_000, async (e) => {
      const { r, rec } = await run<CloseResult>(e, srv(e), 'serverClose', api);
      assert.equal(r, { code: 4002, reason: 'server bye', wasClean: true });
      assert.equal(await within(rec().closed, 5000, 'server closed'), { closeCode: 4002, reason: 'server bye' });
    });

    t(`${tag}: page closes without a code → 1005 (no status) on both sides`, 10_000, async (e) => {
      const { r, rec } = await run<CloseResult>(e, srv(e), 'clientCloseNoCode', api);
      assert.equal(await within(rec().closed, 5000, 'server closed'), { closeCode: 1005, reason: '' });
      assert.equal(r, { code: 1005, reason: '', wasClean: true });
    });
  }
}

t('WebSocket: origin refused → error + close 1006 in the page, 403 from our server', 10_000, async (e) => {
  const before = e.refusingWrites.length;
  const { r } = await run<{ events: string[]; code: number; reason: string; wasClean: boolean }>(e, e.refusing, 'refused', 'WebSocket');
  assert.equal(r.events, ['error', 'close']);
  assert.is(r.code, 1006);
  assert.is(r.wasClean, false);
  assert.is(e.refusingWrites.length, before + 1, 'our server answered once');
  assert.match(e.refusingWrites[before]!, /^HTTP\/1\.1 403 /);
  assert.is(e.refusingHandlerCalls, 0);
  assert.is(e.refusing.pendingHandshakes, 0);
  assert.ok(e.console.some((l) => /403/.test(l)), `Chromium logged the 403: ${e.console.join(' | ')}`);
});

t('WebSocketStream: origin refused → opened and closed reject (1006), 403 from our server', 10_000, async (e) => {
  const before = e.refusingWrites.length;
  interface Outcome { ok: boolean; name?: string; closeCode?: number; message?: string }
  const { r } = await run<{ opened: Outcome; closed: Outcome }>(e, e.refusing, 'refused', 'WebSocketStream');
  assert.is(r.opened.ok, false, 'opened rejects');
  assert.is(r.closed.ok, false, 'closed rejects');
  assert.is(r.closed.closeCode, 1006, `closed: ${JSON.stringify(r.closed)}`);
  assert.is(e.refusingWrites.length, before + 1, 'our server answered once');
  assert.match(e.refusingWrites[before]!, /^HTTP\/1\.1 403 /);
  assert.is(e.refusingHandlerCalls, 0);
});

for (const api of apis) {
  const tag = `${api} → our server in webSocket mode (WHATWG WebSocket handler, binaryType 'blob')`;
  t(`${tag}: text (short and ~1 MiB), binary, empty messages`, 10_000, async (e) => {
    interface Got { kind: string; text: string | null; bytes: number[] | null }
    const { r, rec } = await run<{ got: Got[]; long: unknown; closed: CloseResult }>(e, e.wsMode, 'messages', api);
    const bin = Array.from({ length: 1500 }, (_, i) => (i * 7 + 3) & 0xff);
    assert.equal(r.got.map((g) => (g.kind === 'string' ? g.text : g.bytes)), ['héllo wörld ✓ 🚀', bin, [0, 1, 2, 127, 128, 253, 254, 255], '', [], []]);
    assert.equal(r.long, { kind: 'string', same: true, length: 500_000 }, '~1 MiB non-ASCII text');
    assert.equal(r.closed, { code: 1000, reason: 'done', wasClean: true });
    assert.equal(rec().received, [
      { text: 'héllo wörld ✓ 🚀' }, { blobSize: 1500 }, { blobSize: 8 }, { text: '' }, { blobSize: 0 }, { blobSize: 0 }, { textLength: 500_000 },
    ]);
    assert.equal(await within(rec().closed, 5000, 'server close event'), { closeCode: 1000, reason: 'done' });
  });
  t(`${tag}: close codes both ways (4001 'bye' from the page, 4002 'server bye' from ours)`, 10_000, async (e) => {
    const c = await run<CloseResult>(e, e.wsMode, 'clientClose', api);
    assert.equal(await within(c.rec().closed, 5000, 'server close event'), { closeCode: 4001, reason: 'bye' });
    assert.is(c.r.code, 4001);
    const s2 = await run<CloseResult>(e, e.wsMode, 'serverClose', api);
    assert.equal(s2.r, { code: 4002, reason: 'server bye', wasClean: true });
    assert.equal(await within(s2.rec().closed, 5000, 'server close event'), { closeCode: 4002, reason: 'server bye' });
  });
}

for (const api of apis) {
  t(`${api}: page closes with 4003 and a 123-byte non-ASCII reason (the most a close frame holds) → our server`, 10_000, async (e) => {
    const reason = `bye ${'é'.repeat(59)}x`;
    assert.is(Buffer.byteLength(reason), 123);
    const v = VARIANTS[0]!;
    const { r, rec } = await run<CloseResult>(e, serverOf(e, v), 'clientCloseWith', api, [4003, reason]);
    assert.equal(await within(rec().closed, 5000, 'server closed'), { closeCode: 4003, reason });
    assert.is(r.code, 4003);
    assert.is(r.wasClean, true);
  });

  t(`${api}: our handler throws → the page sees 1011`, 10_000, async (e) => {
    const server = serve({ hostname: '127.0.0.1', port: 0, origins: [e.origin] }, () => {
      throw new Error('handler failed on purpose');
    });
    try {
      await server.ready;
      const r = await within(e.page.evaluate<CloseResult>(`T.justWait(${JSON.stringify(api)}, ${JSON.stringify(`ws://127.0.0.1:${server.port}/c/${++seq}-throws`)})`), 8000, 'page');
      assert.is(r.code, 1011, JSON.stringify(r));
      assert.is(r.wasClean, true);
    } finally {
      await within(server.close(), 3000, 'server close').catch(() => {});
    }
  });

  t(`${api}: our server.close() → the page sees 1001 Going Away with the reason`, 10_000, async (e) => {
    // A server of its own: close() ends every connection of the server it is called on.
    const server = serve({ hostname: '127.0.0.1', port: 0, origins: [e.origin] }, recordingHandler(e.records));
    try {
      await server.ready;
      const path = `/c/${++seq}-shutdown`;
      const page = e.page.evaluate<CloseResult>(`T.serverShutdown(${JSON.stringify(api)}, ${JSON.stringify(`ws://127.0.0.1:${server.port}${path}`)})`);
      page.catch(() => {});
      // Close once the page is connected and its first message made the round trip.
      const end = Date.now() + 5000;
      while (!(e.records.get(path)?.count)) {
        if (Date.now() > end) throw new Error('the page never connected');
        await new Promise((r) => setTimeout(r, 5));
      }
      await within(server.close({ reason: 'maintenance' }), 5000, 'server close');
      assert.equal(await within(page, 5000, 'page close'), { code: 1001, reason: 'maintenance', wasClean: true });
      assert.equal(await within(e.records.get(path)!.closed, 1000, 'server closed'), { closeCode: 1001, reason: 'maintenance' });
    } finally {
      await within(server.close(), 3000, 'server close').catch(() => {});
    }
  });
}

for (const api of apis) {
  for (const v of VARIANTS) {
    const tag = tagOf(api, v);
    const srv = (e: Env): WebSocketServer => serverOf(e, v);
    if (v.big) t(`${tag}: 16 MiB binary message, checksum both ways, a ping during it`, 30_000, async (e) => {
      const seed = BIG_SEED;
      const expected = bigSum();
      const { r, rec } = await run<{ pong: string; kind: string; len: number; sentSum: number; gotSum: number; ms: number; closed: CloseResult }>(
        e, srv(e), 'large', api, [BIG, seed], 30_000);
      assert.is(r.sentSum, expected, 'the page generated the same 16 MiB as Node');
      assert.is(r.pong, 'ping ok', 'ping while the 16 MiB message was arriving');
      assert.equal(rec().big, [{ len: BIG, sum: expected }], 'our server received the 16 MiB intact');
      assert.ok(r.kind !== 'string');
      assert.is(r.len, BIG);
      assert.is(r.gotSum, expected, 'echo intact');
      assert.is(r.closed.code, 1000);
      timings.push(`         (16 MiB round trip in the page: ${r.ms} ms, ${api}, ${v.name})`);
    });

    if (v.many) t(`${tag}: 10,000 small messages sent without waiting, all echoed in order`, 25_000, async (e) => {
      const { r, rec } = await run<{ bad: unknown; ms: number; closed: CloseResult }>(e, srv(e), 'many', api, [MANY], 25_000);
      assert.is(r.bad, null, `out of order or wrong: ${JSON.stringify(r.bad)}`);
      assert.is(rec().count, MANY);
      assert.is(r.closed.code, 1000);
      timings.push(`         (10,000 echoes: ${r.ms} ms, ${api}, ${v.name})`);
    });
  }
}

t('WebSocketStream that does not read → our server\'s writer waits (backpressure through TCP), nothing lost', 15_000, async (e) => {
  const mib = 48;
  const hold = 1000;
  const { r, rec } = await run<{ readingFrom: number; got: number; closed: CloseResult }>(e, serverOf(e, VARIANTS[0]!), 'flood', 'WebSocketStream', [mib, hold], 15_000);
  const log = rec().floodWrites ?? [];
  const before = log.filter((x) => x.at <= r.readingFrom).at(-1)?.sent ?? 0;
  // Measured: ~6 MiB get out (loopback socket buffers on both sides plus Chromium's own) before the writer waits.
  timings.push(`         (backpressure: ${(before / 2 ** 20).toFixed(0)} MiB accepted by our writer while the page held off for ${hold} ms)`);
  assert.ok(before > 0, 'our server started writing before the page read');
  assert.ok(before <= 24 * 2 ** 20, `our writer accepted ${before} bytes while the page was not reading: no backpressure`);
  assert.is(r.got, mib * 2 ** 20, 'every byte arrived');
  assert.is(r.closed.code, 1000);
});

// One page API is enough here: what is under test is the server's WebSocket (Blob echoes keep their order).
for (const api of ['WebSocket']) {
  t(`${api} → our server in webSocket mode: 10,000 small messages sent without waiting, all echoed in order`, 25_000, async (e) => {
    const { r, rec } = await run<{ bad: unknown; ms: number; closed: CloseResult }>(e, e.wsMode, 'many', api, [MANY], 25_000);
    assert.is(r.bad, null, `out of order or wrong: ${JSON.stringify(r.bad)}`);
    assert.is(rec().count, MANY);
    assert.is(r.closed.code, 1000);
    timings.push(`         (10,000 echoes: ${r.ms} ms, ${api}, webSocket mode)`);
  });
}

test.after(async () => {
  if (envP) await envP.catch(() => {});
  const e = state;
  if (e.browser) await within(e.browser.close(), 5000, 'browser close').catch((err: unknown) => console.error(String(err)));
  if (e.servers || e.refusing) {
    await Promise.all([...(e.servers?.values() ?? []), ...(e.refusing ? [e.refusing] : []), ...(e.wsMode ? [e.wsMode] : [])].map((s) => within(s.close(), 3000, 'server close').catch((err: unknown) => console.error(String(err)))));
  }
  if (e.web) {
    e.web.closeAllConnections();
    await new Promise((r) => e.web!.close(() => r(undefined)));
  }
  if (timings.length) console.log(`\ntimings (interop-chromium):\n${timings.join('\n')}`);
});

test.run();
