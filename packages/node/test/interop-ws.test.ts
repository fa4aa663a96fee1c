/** Interop with the `ws` package: our client ↔ ws server, ws client ↔ our server; same checklist both ways. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import type WSType from 'ws';
import type { WebSocketServer as WSServerType } from 'ws';
import { serve, connect, type WebSocketStream, type WebSocketServer as OurServer } from '../src/index.js';
import { within, bytes, equalBytes } from './helpers.js';
import { runChecklist, closeCommand, type ChecklistTarget } from './checklist.js';

// Loaded at run time, not bundled: ws is CommonJS and requires Node builtins, which an ESM bundle cannot.
const load = createRequire(import.meta.url);
const wsModule = load('ws') as typeof import('ws');
const WS = wsModule.WebSocket;
type WS = WSType;
const WebSocketServer = wsModule.WebSocketServer;
type WebSocketServer = WSServerType;

// ---------------------------------------------------------------- our client → ws server
for (const deflate of [false, true]) {
  const s = suite(`our client → ws server${deflate ? ' with permessage-deflate' : ''}`);
  let wss: WebSocketServer;
  let last: Promise<{ code: number; reason: string }>;
  s.before(async () => {
    wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      perMessageDeflate: deflate ? { threshold: 0 } : false,
      maxPayload: 64 * 1024 * 1024,
      handleProtocols: (set) => (set.has('chat') ? 'chat' : false),
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => {
      last = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
      ws.on('message', (data, isBinary) => {
        const m = isBinary ? data : data.toString();
        const cmd = closeCommand(m);
        if (cmd) ws.close(cmd.code, cmd.reason);
        else ws.send(data as Buffer, { binary: isBinary });
      });
    });
  });
  s.after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
  s('checklist', async () => {
    const port = (wss.address() as { port: number }).port;
    const t: ChecklistTarget = {
      deflate,
      open: (protocols) => connect(`ws://127.0.0.1:${port}/`, { deflate, ...(protocols ? { protocols } : {}) }),
      lastServerClose: () => last,
    };
    await runChecklist(t);
  });
  s.run();
}

// ---------------------------------------------------------------- ws client → our server
function wsOpen(url: string, protocols: string[] = [], deflate = false): Promise<WS> {
  const ws = new WS(url, protocols, { perMessageDeflate: deflate, maxPayload: 64 * 1024 * 1024 });
  return within(new Promise<WS>((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  }), 5000, 'ws open');
}
function wsNext(ws: WS): Promise<{ data: Buffer; binary: boolean }> {
  return within(new Promise((resolve) => ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary }))), 15_000, 'ws message');
}
function wsClosed(ws: WS): Promise<{ code: number; reason: string }> {
  return within(new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }))), 5000, 'ws close');
}

for (const deflate of [false, true]) {
  const s = suite(`ws client → our server${deflate ? ' with permessage-deflate' : ''}`);
  let server: OurServer;
  let last: Promise<{ code: number; reason: string }>;
  s.before(async () => {
    server = serve({ hostname: '127.0.0.1', port: 0, protocols: ['chat'], deflate }, async (ws: WebSocketStream) => {
      last = ws.closed.then((c) => ({ code: c.closeCode, reason: c.reason }));
      last.catch(() => {});
      const { readable, writable } = await ws.opened;
      const w = writable.getWriter();
      try {
        for await (const m of readable as unknown as AsyncIterable<string | Uint8Array>) {
          const cmd = closeCommand(m);
          if (cmd) ws.close({ closeCode: cmd.code, reason: cmd.reason });
          else await w.write(m);
        }
      } catch { /* ended */ }
    });
    await server.ready;
  });
  s.after(async () => {
    await within(server.close(), 8000, 'server close');
  });
  s('messages, subprotocol, ping, close both ways', async () => {
    const url = `ws://127.0.0.1:${server.port}/`;
    const ws = await wsOpen(url, ['mqtt', 'chat'], deflate);
    assert.is(ws.protocol, 'chat');
    assert.is(ws.extensions.includes('permessage-deflate'), deflate);
    const text = 'héllo wörld ✓ 𝄞 日本語';
    ws.send(text);
    let m = await wsNext(ws);
    assert.is(m.binary, false);
    assert.is(m.data.toString('utf8'), text);
    const bin = bytes(3000, 5);
    ws.send(bin);
    m = await wsNext(ws);
    assert.is(m.binary, true);
    assert.ok(equalBytes(new Uint8Array(m.data), bin));
    ws.send('');
    m = await wsNext(ws);
    assert.is(m.binary, false);
    assert.is(m.data.length, 0);
    ws.send(new Uint8Array(0));
    m = await wsNext(ws);
    assert.is(m.binary, true);
    assert.is(m.data.length, 0);
    const pong = within(new Promise<Buffer>((r) => ws.once('pong', r)), 5000, 'pong');
    ws.ping(Buffer.from('p1'));
    assert.is((await pong).toString(), 'p1');
    const closed = wsClosed(ws);
    ws.close(4001, 'client bye ✓');
    const c = await closed;
    assert.is(c.code, 4001);
    const sc = await within(last, 5000, 'server close');
    assert.equal(sc, { code: 4001, reason: 'client bye ✓' });

    const ws2 = await wsOpen(url, [], deflate);
    const closed2 = wsClosed(ws2);
    ws2.send('__close 4002 server bye ✓');
    assert.equal(await closed2, { code: 4002, reason: 'server bye ✓' });
  });
  s('16 MiB message and 10,000 small messages in flight', async () => {
    const url = `ws://127.0.0.1:${server.port}/`;
    const ws = await wsOpen(url, [], deflate);
    const big = new Uint8Array(16 * 1024 * 1024);
    const seed = bytes(64 * 1024, 9);
    for (let o = 0; o < big.byteLength; o += seed.byteLength) big.set(seed, o);
    ws.send(big);
    const m = await wsNext(ws);
    assert.is(m.data.length, big.byteLength);
    assert.ok(equalBytes(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.length), big));

    const n = 10_000;
    let i = 0;
    const done = within(new Promise<void>((resolve, reject) => {
      ws.on('message', (data, isBinary) => {
        const ok = i % 2 === 0 ? !isBinary && data.toString() === `m${i}` : isBinary && (data as Buffer).readUInt32BE(0) === i;
        if (!ok) reject(new Error(`message ${i} wrong`));
        if (++i === n) resolve();
      });
    }), 15_000, '10k echoes');
    for (let k = 0; k < n; k++) {
      if (k % 2 === 0) ws.send(`m${k}`);
      else {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(k);
        ws.send(b);
      }
    }
    await done;
    const closed = wsClosed(ws);
    ws.close(1000);
    assert.is((await closed).code, 1000);
  });
  s.run();
}
