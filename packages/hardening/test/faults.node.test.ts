/**
 * Faults (issue 9): the peer vanishes mid-handshake, mid-frame, mid-message and mid-close, by reset (RST) and by
 * half-close (FIN), on both sides. The surviving side reports 1006, nothing escapes (no unhandled rejection or
 * uncaught exception), and file descriptors (/proc/self/fd), sockets and timers (process.getActiveResourcesInfo())
 * return to where they were. Then a server close() while clients are sending: every client gets 1001 and nothing
 * a client sent before that close is lost or reordered.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { serve, connect, type WebSocketStream } from '@streamsocket/node';
import { computeAccept } from '@streamsocket/handshake';
import {
  RawPeer, sleep, until, within, clientFrame, frame, closePayload, cleanup, tracked, escaped, baseline, backTo,
  upgradeRequest, type Baseline,
} from './_net.js';

type Vanish = 'reset' | 'half-close';
function vanish(s: net.Socket, how: Vanish): void {
  if (how === 'reset') s.resetAndDestroy();
  else s.end();
}

const settle = (p: Promise<unknown>): Promise<{ ok: boolean; v: unknown }> => p.then((v) => ({ ok: true, v }), (v: unknown) => ({ ok: false, v }));

const results: string[] = [];
async function checkLeaks(what: string, base: Baseline): Promise<void> {
  const now = await backTo(base, 5000);
  results.push(`${what}: fds ${base.fds}->${now.fds}, timers ${base.timers}->${now.timers}, sockets ${base.sockets}->${now.sockets}`);
  assert.ok(now.fds <= base.fds, `${what}: fds ${base.fds} -> ${now.fds}`);
  assert.ok(now.timers <= base.timers, `${what}: timers ${base.timers} -> ${now.timers}`);
  assert.ok(now.sockets <= base.sockets, `${what}: sockets ${base.sockets} -> ${now.sockets}`);
}

for (const how of ['reset', 'half-close'] as const) {
  test(`server side, client vanishes (${how}) mid-handshake, mid-frame, mid-message, mid-close: 1006, no leaks`, async () => {
    const opened: WebSocketStream[] = [];
    const server = tracked(serve({ hostname: '127.0.0.1', port: 0, closeTimeout: 1000, handshakeTimeout: 3000 }, (ws) => {
      opened.push(ws);
    }));
    await server.ready;
    const port = server.port;
    const base = baseline();
    // mid-handshake: half a head.
    {
      const p = new RawPeer(port);
      await p.ready();
      p.write(upgradeRequest(port).slice(0, 40));
      await until(() => server.pendingHandshakes === 1, 2000, 'pending');
      vanish(p.socket, how);
      await until(() => server.pendingHandshakes === 0, 3000, 'handshake abandoned');
      await p.waitClosed(3000);
    }
    await checkLeaks(`${how} mid-handshake`, base);
    const scenarios: Array<[string, (p: RawPeer, ws: WebSocketStream) => Promise<void> | void]> = [
      ['mid-frame', (p) => void p.write(clientFrame(2, new Uint8Array(1000)).subarray(0, 500))],
      ['mid-message', (p) => void p.write(clientFrame(1, 'first fragment', false))],
      ['mid-close (server closed, client never answers)', async (p, ws) => {
        ws.close({ closeCode: 1000, reason: 'bye' });
        await until(() => p.closeCode() !== null, 2000, 'close frame at the client');
      }],
      ['mid-close (half a close frame)', (p) => void p.write(clientFrame(8, closePayload(1000, 'partial')).subarray(0, 5))],
    ];
    for (const [name, act] of scenarios) {
      const p = new RawPeer(port);
      await p.upgrade(port);
      await until(() => opened.length > 0, 2000, 'session');
      const ws = opened.shift()!;
      const info = await within(ws.opened, 2000, 'opened');
      // A reader, like any application: it must see an error or end, never hang.
      const reading = settle((async () => {
        const r = info.readable.getReader();
        for (;;) if ((await r.read()).done) return;
      })());
      await act(p, ws);
      await sleep(20);
      vanish(p.socket, how);
      const c = await within(settle(ws.closed), 4000, `${name}: closed`);
      assert.is(c.ok, false, `${name}: closed rejects`);
      assert.is((c.v as { closeCode?: number }).closeCode, 1006, `${name}: 1006`);
      await within(reading, 4000, `${name}: reader settles`);
      await p.waitClosed(3000);
      await checkLeaks(`${how} ${name}`, base);
    }
    assert.equal(escaped.map(String), []);
  });

  test(`client side, server vanishes (${how}) mid-handshake, mid-frame, mid-message, mid-close: 1006, no leaks`, async () => {
    // A raw server that misbehaves on cue.
    let plan: (s: net.Socket, head: string) => void = () => {};
    const socks = new Set<net.Socket>();
    const raw = net.createServer((s) => {
      socks.add(s);
      s.on('error', () => {});
      s.on('close', () => socks.delete(s));
      let buf = '';
      s.on('data', (d) => {
        if (buf.includes('\r\n\r\n')) return;
        buf += d.toString('latin1');
        if (buf.includes('\r\n\r\n')) plan(s, buf);
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    tracked({ close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); raw.close(() => r()); }) });
    const port = (raw.address() as net.AddressInfo).port;
    const accept = (head: string): string => {
      const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(head)![1]!;
      return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(key)}\r\n\r\n`;
    };
    const base = baseline();
    const scenarios: Array<[string, (s: net.Socket, head: string) => void, boolean]> = [
      ['mid-handshake (half a 101)', (s, h) => { s.write(accept(h).slice(0, 30)); setTimeout(() => vanish(s, how), 20); }, false],
      ['mid-frame', (s, h) => { s.write(accept(h)); s.write(frame(true, false, 2, new Uint8Array(100), null).subarray(0, 50)); setTimeout(() => vanish(s, how), 20); }, true],
      ['mid-message', (s, h) => { s.write(accept(h)); s.write(frame(false, false, 1, new TextEncoder().encode('part'), null)); setTimeout(() => vanish(s, how), 20); }, true],
      ['mid-close (client closed, server never answers)', (s, h) => {
        s.write(accept(h));
        s.on('data', (d) => { if (d[0] === 0x88) setTimeout(() => vanish(s, how), 20); });
      }, true],
    ];
    for (const [name, p, opens] of scenarios) {
      plan = p;
      const ws = connect(`ws://127.0.0.1:${port}/`, { closeTimeout: 2000 });
      const o = await within(settle(ws.opened), 4000, `${name}: opened`);
      assert.is(o.ok, opens, `${name}: opened ${opens ? 'resolves' : 'rejects'}`);
      if (o.ok && name.startsWith('mid-close')) ws.close();
      const c = await within(settle(ws.closed), 5000, `${name}: closed`);
      assert.is(c.ok, false);
      assert.is((c.v as { closeCode?: number }).closeCode, 1006, `${name}: 1006`);
      await checkLeaks(`client, ${how} ${name}`, base);
    }
    assert.equal(escaped.map(String), []);
  });
}

test('server close() while clients are sending: every client gets 1001, nothing sent before it is lost or reordered', async () => {
  const CLIENTS = 20;
  const received = new Map<number, number[]>();
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0 }, async (ws: WebSocketStream) => {
    try {
      const { readable } = await ws.opened;
      const r = readable.getReader();
      for (;;) {
        const m = await r.read();
        if (m.done) return;
        const [c, i] = String(m.value).split(':').map(Number) as [number, number];
        let l = received.get(c);
        if (!l) received.set(c, (l = []));
        l.push(i);
      }
    } catch {
      /* ended */
    }
  }));
  await server.ready;
  const url = `ws://127.0.0.1:${server.port}/`;
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    const ws = connect(url);
    const { writable } = await within(ws.opened, 5000, `client ${c} opened`);
    const w = writable.getWriter();
    let written = 0; // writes whose promise resolved (handed to the socket)
    let attempted = 0;
    const sending = (async () => {
      try {
        for (;;) {
          await w.ready;
          // Yield now and then: writes that the socket takes at once resolve in microtasks, and a loop that never
          // yields would starve the event loop (and with it the other clients, in this single process).
          if (attempted % 50 === 49) await new Promise((r) => setImmediate(r));
          const i = attempted++;
          await w.write(`${c}:${i}`);
          written = Math.max(written, i + 1);
        }
      } catch {
        /* closing */
      }
    })();
    return { ws, sending, written: () => written, attempted: () => attempted };
  }));
  await sleep(500);
  await within(server.close({ reason: 'maintenance' }), 8000, 'server close');
  let total = 0;
  for (let c = 0; c < CLIENTS; c++) {
    const cl = clients[c]!;
    const info = await within(cl.ws.closed, 5000, 'client closed');
    assert.equal([info.closeCode, info.reason], [1001, 'maintenance']);
    await cl.sending;
    const got = received.get(c) ?? [];
    for (let i = 0; i < got.length; i++) assert.is(got[i], i, `client ${c}: message ${i} in order, no gap or duplicate`);
    assert.ok(got.length >= cl.written(), `client ${c}: server got ${got.length} of ${cl.written()} completed writes`);
    assert.ok(got.length <= cl.attempted());
    total += got.length;
  }
  console.log(`[server close] ${CLIENTS} clients sending: all got 1001 'maintenance'; ${total} messages received in order, none lost among completed writes`);
});

test.after.each(cleanup);

test('report', () => {
  for (const r of results) console.log(`[faults] ${r}`);
  assert.equal(escaped.map(String), []);
});

test.run();
