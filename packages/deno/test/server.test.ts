/**
 * serve(): shutdown semantics (1001 to every client, handshakes in progress dropped, port released), handler
 * failures (1011), the signal option, and that a server with nothing open leaves the process free to exit.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, serve } from '../src/index.js';
import { skipOutside, within } from '../../devtools/testkit/pair-suite.js';
import { makeCerts } from './sides.js';
import { denoClient, inDeno } from './sides.js';

const T = 10_000;

/** A raw TCP client: connect, write `text`, then give back a reader of the first bytes and a closer. */
async function rawClient(port: number, text: string): Promise<{ read(): Promise<string>; close(): void }> {
  const c = await Deno.connect({ hostname: '127.0.0.1', port });
  await c.write(new TextEncoder().encode(text));
  return {
    read: async () => {
      const b = new Uint8Array(4096);
      const n = await c.read(b);
      return n === null ? '' : new TextDecoder().decode(b.subarray(0, n));
    },
    close: () => c.close(),
  };
}

/** A raw TCP connection that sends nothing (it holds a pending-handshake slot). */
function RAW_HOLD(port: number): { stop(): Promise<void> } {
  const c = Deno.connect({ hostname: '127.0.0.1', port });
  return { stop: async () => (await c).close() };
}

if (inDeno) {
  const s = suite('deno: serve');

  s('close() ends every connection with 1001 and releases the port', async () => {
    const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
      const { readable } = await ws.opened;
      // Keep the connection open and idle: read until it ends.
      await readable.pipeTo(new WritableStream()).catch(() => {});
    });
    assert.ok(server.port > 0);
    assert.is(server.url, `ws://127.0.0.1:${server.port}`);
    const ours = [connect(server.url), connect(server.url)];
    await within(T, Promise.all(ours.map((w) => w.opened)), 'our clients open');
    const native = await within(T, denoClient(server.url, []), "Deno's client open");
    // Make sure the server has registered all three before closing.
    await within(T, (async () => { while (server.connections < 3) await new Promise((r) => setTimeout(r, 5)); })(), 'three connections');
    const t0 = Date.now();
    await within(T, server.close(), 'server.close()');
    assert.ok(Date.now() - t0 < 3_000, 'close took too long');
    for (const w of ours) {
      const c = await within(T, w.closed, 'our client closed');
      assert.equal(c, { closeCode: 1001, reason: 'server shutting down' });
    }
    assert.equal(await within(T, native.closed, "Deno's client closed"), { code: 1001, reason: 'server shutting down' });
    assert.is(server.connections, 0);
    // The port is free again.
    const again = Deno.listen({ hostname: '127.0.0.1', port: server.port });
    again.close();
    await server.closed;
    // close() is idempotent.
    await server.close();
  });

  s('close() drops connections still in their opening handshake', async () => {
    const server = serve({ hostname: '127.0.0.1', port: 0, handshakeTimeout: 60_000 }, () => {});
    const raw = await Deno.connect({ hostname: '127.0.0.1', port: server.port });
    await raw.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n')); // an incomplete head
    await within(T, (async () => { while (server.pendingHandshakes < 1) await new Promise((r) => setTimeout(r, 5)); })(), 'registered');
    await within(T, server.close(), 'close');
    const b = new Uint8Array(100);
    const n = await within(T, raw.read(b).catch(() => null), 'raw conn ended');
    assert.is(n, null);
    raw.close();
  });

  s('a handler that throws ends its connection with 1011', async () => {
    const errors: unknown[] = [];
    const server = serve({ hostname: '127.0.0.1', port: 0, onError: (e) => errors.push(e) }, () => {
      throw new Error('handler bug');
    });
    try {
      const ws = connect(server.url);
      const c = await within(T, ws.closed, 'closed');
      assert.is(c.closeCode, 1011);
      assert.match((errors[0] as Error).message, /handler bug/);
    } finally {
      await server.close();
    }
  });

  s('webSocket: true hands the handler a WHATWG WebSocket; permessageDeflate is an alias of deflate', async () => {
    const server = serve({ hostname: '127.0.0.1', port: 0, webSocket: true, permessageDeflate: true }, (ws) => {
      ws.binaryType = 'arraybuffer';
      ws.onmessage = (e) => ws.send(`got ${String((e as MessageEvent).data)} via ${ws.extensions}`);
    });
    try {
      const ws = connect(server.url, { permessageDeflate: true });
      const { readable, writable } = await within(T, ws.opened, 'open');
      await writable.getWriter().write('x');
      const r = await within(T, readable.getReader().read(), 'reply');
      assert.match(String(r.value), /^got x via permessage-deflate/);
      ws.close();
      await within(T, ws.closed, 'closed');
    } finally {
      await server.close();
    }
  });

  s('over maxPendingHandshakes a new connection is answered 503', async () => {
    const server = serve({ hostname: '127.0.0.1', port: 0, maxPendingHandshakes: 1, handshakeTimeout: 60_000 }, () => {});
    // One connection that never sends its head keeps the only slot.
    const hold = RAW_HOLD(server.port);
    try {
      await within(T, (async () => { while (server.pendingHandshakes < 1) await new Promise((r) => setTimeout(r, 5)); })(), 'slot taken');
      const e = await within(T, connect(server.url).opened.then(() => null, (x: unknown) => x), 'refused');
      assert.is((e as { status?: number } | null)?.status, 503);
    } finally {
      await hold.stop();
      await server.close();
    }
  });

  s('a peer that vanishes without a close frame: closed rejects with 1006, the connection is released', async () => {
    let serverSide: Promise<unknown> | undefined;
    const server = serve({ hostname: '127.0.0.1', port: 0 }, (ws) => {
      serverSide = ws.closed.then(
        () => 'clean',
        (e: { closeCode?: number }) => e.closeCode,
      );
    });
    try {
      const raw = await rawClient(
        server.port,
        'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      assert.match(await within(T, raw.read(), '101'), /^HTTP\/1\.1 101 /);
      await within(T, (async () => { while (!serverSide) await new Promise((r) => setTimeout(r, 5)); })(), 'handler ran');
      raw.close();
      assert.is(await within(T, serverSide!, 'server side closed'), 1006);
      await within(T, (async () => { while (server.connections > 0) await new Promise((r) => setTimeout(r, 5)); })(), 'released');
    } finally {
      await server.close();
    }
  });

  s('a client speaking plain HTTP to a wss: server is reported to onError and released', async () => {
    const errors: unknown[] = [];
    const server = serve({ hostname: '127.0.0.1', port: 0, tls: await makeCerts(), onError: (e) => errors.push(e) }, () => {});
    try {
      const raw = await rawClient(server.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await within(T, raw.read(), 'server answers or closes');
      raw.close();
      await within(T, (async () => { while (errors.length === 0) await new Promise((r) => setTimeout(r, 5)); })(), 'onError');
      await within(T, (async () => { while (server.pendingHandshakes > 0) await new Promise((r) => setTimeout(r, 5)); })(), 'released');
    } finally {
      await server.close();
    }
  });

  s('the signal option closes the server', async () => {
    const ac = new AbortController();
    const server = serve({ hostname: '127.0.0.1', port: 0, signal: ac.signal }, () => {});
    ac.abort();
    await within(T, server.closed, 'closed by signal');
    const again = Deno.listen({ hostname: '127.0.0.1', port: server.port });
    again.close();
  });

  s.run();
} else {
  skipOutside('Deno', 'server.test.ts');
}
