/**
 * Hostile servers against @streamsocket/node's client (issue 9, the peer can be either side): an endless response
 * head, a dribbled one, a 1 GiB declared frame, a decompression bomb, and a server that never reads. The client must
 * fail fast with the right error or close code, hold its bounds, and leak nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import zlib from 'node:zlib';
import { connect, HandshakeError } from '@streamsocket/node';
import { computeAccept } from '@streamsocket/handshake';
import { sleep, until, within, frame, cleanup, tracked, escaped, baseline, backTo, parseFrames, rss, gc, MiB, rssSampler } from './_net.js';

const settle = (p: Promise<unknown>): Promise<{ ok: boolean; v: unknown }> => p.then((v) => ({ ok: true, v }), (v: unknown) => ({ ok: false, v }));

/** A raw server: `plan` runs once the request head is in, with the socket and a buffer of what the client sent. */
async function rawServer(plan: (s: net.Socket, head: string, rx: { bytes: Buffer }) => void): Promise<number> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
    const rx = { bytes: Buffer.alloc(0) };
    let head = '';
    s.on('data', (d: Buffer) => {
      if (head.includes('\r\n\r\n')) {
        rx.bytes = Buffer.concat([rx.bytes, d]);
        return;
      }
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) plan(s, head, rx);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  tracked({ close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) });
  return (srv.address() as net.AddressInfo).port;
}

function accept101(head: string, extra = ''): string {
  const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(head)![1]!;
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(key)}\r\n${extra}\r\n`;
}

/** The close code in the first (masked) close frame the client sent. */
function clientCloseCode(b: Buffer): number | null {
  const f = parseFrames(b).find((x) => x.opcode === 8);
  if (!f) return null;
  const p = Buffer.from(f.payload);
  // parseFrames does not unmask: the key sits just before the payload.
  const key = b.subarray(b.indexOf(f.payload) - 4, b.indexOf(f.payload));
  for (let i = 0; i < p.length; i++) p[i] = p[i]! ^ key[i & 3]!;
  return p.length >= 2 ? p.readUInt16BE(0) : 1005;
}

const lines: string[] = [];

test('an endless response head: HandshakeError HEAD_TOO_LARGE at 16 KiB; a dribbled head: connectTimeout; no leaks', async () => {
  const base = baseline();
  const port = await rawServer((s) => {
    s.write('HTTP/1.1 101 Switching Protocols\r\nX-Big: ');
    const chunk = 'a'.repeat(4096);
    const t = setInterval(() => {
      if (s.destroyed || !s.write(chunk)) clearInterval(t);
    }, 1);
    s.once('close', () => clearInterval(t));
  });
  const t0 = Date.now();
  const ws = connect(`ws://127.0.0.1:${port}/`);
  const o = await within(settle(ws.opened), 5000, 'opened');
  assert.is(o.ok, false);
  assert.instance(o.v, HandshakeError);
  assert.is((o.v as HandshakeError).code, 'HEAD_TOO_LARGE');
  lines.push(`endless response head: ${(o.v as HandshakeError).code} after ${Date.now() - t0} ms`);
  const port2 = await rawServer((s) => {
    const resp = 'HTTP/1.1 101 Switching Protocols\r\n';
    let i = 0;
    const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(resp[i++ % resp.length]!)), 100);
    s.once('close', () => clearInterval(t));
  });
  const t1 = Date.now();
  const ws2 = connect(`ws://127.0.0.1:${port2}/`, { connectTimeout: 800 });
  const o2 = await within(settle(ws2.opened), 5000, 'opened');
  const ms = Date.now() - t1;
  assert.is(o2.ok, false);
  lines.push(`response head at 10 B/s: failed after ${ms} ms (connectTimeout 800): ${String((o2.v as Error).message)}`);
  assert.ok(ms >= 750 && ms < 2000);
  await cleanup();
  const now = await backTo(base);
  lines.push(`hostile heads: fds ${base.fds}->${now.fds}, timers ${base.timers}->${now.timers}, sockets ${base.sockets}->${now.sockets}`);
  assert.ok(now.fds <= base.fds && now.timers <= base.timers && now.sockets <= base.sockets);
});

test('a 1 GiB declared frame from the server: the client fails with 1009 from the header, closed 1006', async () => {
  let rx: { bytes: Buffer } | null = null;
  const port = await rawServer((s, head, r) => {
    rx = r;
    s.write(accept101(head));
    s.write(new Uint8Array([0x82, 127, 0, 0, 0, 0, 0x40, 0, 0, 0]));
  });
  const ws = connect(`ws://127.0.0.1:${port}/`);
  await within(ws.opened, 3000, 'opened');
  const c = await within(settle(ws.closed), 5000, 'closed');
  await until(() => rx !== null && clientCloseCode(rx.bytes) !== null, 3000, 'client close frame');
  lines.push(`1 GiB frame from the server: client sent close ${clientCloseCode(rx!.bytes)}, closed ${(c.v as { closeCode: number }).closeCode}`);
  assert.is(clientCloseCode(rx!.bytes), 1009);
  assert.is((c.v as { closeCode: number }).closeCode, 1006);
});

test('a decompression bomb from the server (1 GiB in ~1 MiB): the client fails with 1009, RSS bounded', async () => {
  const d = zlib.createDeflateRaw({ level: 9, memLevel: 9 });
  const parts: Buffer[] = [];
  d.on('data', (c: Buffer) => parts.push(c));
  const z = Buffer.alloc(MiB);
  for (let i = 0; i < 1024; i++) d.write(z);
  await new Promise<void>((r) => d.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
  d.close();
  const all = Buffer.concat(parts);
  const bomb = all.subarray(0, all.length - 4);
  let rx: { bytes: Buffer } | null = null;
  const port = await rawServer((s, head, r) => {
    rx = r;
    s.write(accept101(head, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
    s.write(frame(true, true, 2, bomb, null));
  });
  gc();
  const before = rss();
  const sampler = rssSampler(5);
  const ws = connect(`ws://127.0.0.1:${port}/`, { deflate: true });
  const info = await within(ws.opened, 3000, 'opened');
  assert.match(info.extensions, /permessage-deflate/);
  const c = await within(settle(ws.closed), 10_000, 'closed');
  await until(() => rx !== null && clientCloseCode(rx.bytes) !== null, 3000, 'client close frame');
  const growth = (sampler.stop() - before) / MiB;
  lines.push(`bomb from the server (${bomb.length} B): client sent close ${clientCloseCode(rx!.bytes)}; peak RSS growth ${growth.toFixed(1)} MiB (bound 64 MiB)`);
  assert.is(clientCloseCode(rx!.bytes), 1009);
  assert.is((c.v as { closeCode: number }).closeCode, 1006);
  assert.ok(growth < 64);
});

test('a server that never reads: the client writer stalls, bufferedAmount at its mark, memory flat', async () => {
  const port = await rawServer((s, head) => {
    s.write(accept101(head));
    s.pause(); // never read again
  });
  const ws = connect(`ws://127.0.0.1:${port}/`);
  const { writable } = await within(ws.opened, 3000, 'opened');
  const w = writable.getWriter();
  const payload = new Uint8Array(16 * 1024);
  let accepted = 0;
  let maxBuffered = 0;
  let lastChange = Date.now();
  gc();
  const before = rss();
  const t0 = Date.now();
  const writing = (async () => {
    try {
      for (;;) {
        await w.ready;
        void w.write(payload).catch(() => {});
        accepted += payload.length;
        lastChange = Date.now();
      }
    } catch {
      /* closed */
    }
  })();
  while (Date.now() - t0 < 3000) {
    await sleep(20);
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
  }
  const stalled = Date.now() - lastChange;
  const growth = (rss() - before) / MiB;
  lines.push(`server never reads: client wrote ${(accepted / MiB).toFixed(2)} MiB then writer.ready pending for ${stalled} ms; bufferedAmount max ${(maxBuffered / 1024).toFixed(0)} KiB; RSS +${growth.toFixed(1)} MiB`);
  assert.ok(stalled >= 1000);
  assert.ok(maxBuffered <= 80 * 1024);
  assert.ok(growth < 32);
  await cleanup();
  await within(settle(ws.closed), 8000, 'closed');
  await within(writing, 3000, 'writer loop ends');
});

test.after.each(cleanup);

test('report', () => {
  for (const l of lines) console.log(`[hostile server] ${l}`);
  assert.equal(escaped.map(String), []);
});

test.run();
