/**
 * RFC 8441 with @streamsocket/node's serveHttp2 and connectHttp2 on another runtime's `node:http2` (Deno's and
 * Bun's compatibility layers, which do send and accept extended CONNECT): both roles in this process, several
 * WebSockets on one HTTP/2 session, the server proving each came as an extended CONNECT stream.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import { connectHttp2, serveHttp2, type WebSocketStream } from '../../node/src/index.js';
import { within } from './pair-suite.js';

export function http2CompatSuite(name: string, certs: () => Promise<{ ca: string; cert: string; key: string }>): void {
  const s = suite(name);
  s('serveHttp2 and connectHttp2 on node:http2: three WebSockets on one session, echo, close codes', async () => {
    const c = await certs();
    const server = serveHttp2({ tls: { cert: c.cert, key: c.key }, protocols: ['chat'] }, async (ws: WebSocketStream) => {
      try {
        const { readable, writable } = await ws.opened;
        await readable.pipeTo(writable);
      } catch {
        /* closed */
      }
    });
    await server.ready;
    const session = http2.connect(`https://localhost:${server.port}`, { ca: c.ca });
    session.on('error', () => {});
    try {
      const sockets = ['a', 'b', 'c'].map((p) => connectHttp2(`wss://localhost:${server.port}/${p}`, { session, protocols: ['chat'] }));
      await Promise.all(
        sockets.map(async (ws, i) => {
          const { readable, writable, protocol } = await within(10_000, ws.opened, 'opened');
          assert.is(protocol, 'chat');
          const w = writable.getWriter();
          const r = readable.getReader();
          await w.write(`hé ${i}`);
          assert.is((await within(5000, r.read(), 'text')).value, `hé ${i}`);
          const big = new Uint8Array(300_000 + i).map((_, k) => (k * 7 + i) & 0xff);
          await w.write(big);
          const back = (await within(10_000, r.read(), 'binary')).value as Uint8Array;
          assert.is(back.byteLength, big.byteLength);
          assert.ok(back.every((b, k) => b === big[k]));
          w.releaseLock();
          r.releaseLock();
          ws.close({ closeCode: 4000 + i, reason: `bye ${i}` });
          assert.equal(await within(5000, ws.closed, 'closed'), { closeCode: 4000 + i, reason: `bye ${i}` });
        }),
      );
      assert.is(server.counts.http2, 3, 'three extended CONNECT streams');
      assert.is(server.counts.http1, 0);
    } finally {
      session.close();
      await within(10_000, server.close(), 'server close');
    }
  });
  s.run();
}
