/**
 * websocketRoute on a real Bun.serve (the platform engine): outgoing backpressure comes from Bun's send() result
 * and drain. A raw TCP peer that stops reading makes the handler's writes wait; once it reads, everything arrives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { connect, websocketRoute } from '../src/index.js';
import { routeLimitTest } from '../../devtools/testkit/route-limits.js';

const CHUNK = 256 * 1024;
const N = 64; // 16 MiB in all

test('writes wait for Bun to drain while the peer does not read; all of it arrives once it does', async () => {
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
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (req: Request, srv: unknown) => route.upgrade(req, srv),
    websocket: route.websocket,
  } as never) as unknown as { port: number; stop(force?: boolean): unknown };
  const sock = net.connect(server.port, '127.0.0.1');
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let received = 0;
    const head = await new Promise<string>((resolve) => {
      let s = '';
      const onData = (d: Buffer): void => {
        s += d.toString('latin1');
        const end = s.indexOf('\r\n\r\n');
        if (end >= 0) {
          sock.off('data', onData);
          sock.pause(); // stop reading: Bun's buffer and then the TCP window fill up
          received = s.length - end - 4;
          resolve(s.slice(0, end));
        }
      };
      sock.on('data', onData);
    });
    assert.match(head, /^HTTP\/1\.1 101/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.is(engine, 'platform');
    assert.ok(written < N / 2, `the handler's writes wait (${written} of ${N} chunks of 256 KiB done while the peer reads nothing)`);
    const all = new Promise<void>((resolve) => {
      sock.on('data', (d: Buffer) => {
        received += d.byteLength;
        if (received >= N * (CHUNK + 10)) resolve();
      });
    });
    sock.resume();
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([all, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`only ${received} bytes arrived`)), 20_000)))]);
    clearTimeout(t);
    assert.is(received, N * (CHUNK + 10), 'every frame: 10-byte header + 256 KiB');
    assert.is(written, N);
  } finally {
    sock.destroy();
    route.close();
    server.stop(true);
  }
});

routeLimitTest('bun: Bun.serve', {
  websocketRoute: websocketRoute as never,
  connect: (url) => connect(url),
  async host(route) {
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req: Request, srv: unknown) => route.upgrade(req, srv),
      websocket: (route as unknown as { websocket: unknown }).websocket,
    } as never) as unknown as { port: number; stop(force?: boolean): unknown };
    return { url: `ws://127.0.0.1:${server.port}/`, stop: async () => void (await server.stop(true)) };
  },
});

test.run();
