/**
 * websocketRoute on a real Deno.serve (the platform engine): outgoing backpressure comes from polling the socket's
 * bufferedAmount. A raw Deno.connect peer that stops reading makes the handler's writes wait; once it reads,
 * everything arrives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, websocketRoute } from '../src/index.js';
import { routeLimitTest } from '../../devtools/testkit/route-limits.js';

const CHUNK = 256 * 1024;
const N = 64; // 16 MiB in all

test('writes wait while Deno holds more than the high-water mark for a peer that does not read; all arrives once it does', async () => {
  let written = 0;
  let engine = '';
  const route = websocketRoute(async (ws) => {
    engine = ws.engine;
    const { writable } = await ws.opened;
    const w = writable.getWriter();
    const chunk = new Uint8Array(CHUNK).fill(7);
    for (let i = 0; i < N; i++) {
      await w.write(chunk);
      written++;
    }
  });
  let listening!: (port: number) => void;
  const port = new Promise<number>((r) => (listening = r));
  const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: (a) => listening(a.port) }, (req) => route.upgrade(req));
  const conn = await Deno.connect({ hostname: '127.0.0.1', port: await port });
  try {
    await conn.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    const buf = new Uint8Array(64 * 1024);
    let head = '';
    let received = 0;
    while (!head.includes('\r\n\r\n')) {
      const n = await conn.read(buf);
      if (n === null) throw new Error('closed during the handshake');
      head += new TextDecoder('latin1').decode(buf.subarray(0, n));
    }
    received = head.length - head.indexOf('\r\n\r\n') - 4;
    assert.match(head, /^HTTP\/1\.1 101/);
    // Not reading: Deno's queue and then the TCP window fill up.
    await new Promise((r) => setTimeout(r, 1000));
    assert.is(engine, 'platform');
    assert.ok(written < N / 2, `the handler's writes wait (${written} of ${N} chunks of 256 KiB done while the peer reads nothing)`);
    const deadline = Date.now() + 20_000;
    while (received < N * (CHUNK + 10)) {
      if (Date.now() > deadline) throw new Error(`only ${received} bytes arrived`);
      const n = await conn.read(buf);
      if (n === null) break;
      received += n;
    }
    assert.is(received, N * (CHUNK + 10), 'every frame: 10-byte header + 256 KiB');
    await new Promise((r) => setTimeout(r, 50));
    assert.is(written, N);
  } finally {
    try {
      conn.close();
    } catch {
      /* closed */
    }
    route.close();
    await server.shutdown();
  }
});

routeLimitTest('deno: Deno.serve', {
  websocketRoute: websocketRoute as never,
  connect: (url) => connect(url),
  async host(route) {
    let listening!: (port: number) => void;
    const port = new Promise<number>((r) => (listening = r));
    const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: (a) => listening(a.port) }, (req, info) => route.upgrade(req, info));
    return { url: `ws://127.0.0.1:${await port}/`, stop: () => server.shutdown() };
  },
});

test.run();
