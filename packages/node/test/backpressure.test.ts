/** End-to-end backpressure over real TCP: a server that does not read stalls the client's writer, and resumes it. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serve, connect, type WebSocketStream } from '../src/index.js';
import { within, until } from './helpers.js';

test('a slow reader stalls the writer (bounded buffering), then everything arrives', async () => {
  let startReading!: () => void;
  const go = new Promise<void>((r) => (startReading = r));
  let received = 0;
  let serverSocket: import('node:net').Socket | undefined;
  const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws: WebSocketStream, info) => {
    serverSocket = info.socket;
    const { readable } = await ws.opened;
    await go;
    for await (const m of readable as unknown as AsyncIterable<Uint8Array>) received += m.byteLength;
  });
  await server.ready;
  try {
    const ws = connect(`ws://127.0.0.1:${server.port}/`);
    const { writable } = await within(ws.opened);
    const w = writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let written = 0;
    let stalled = false;
    // Write until ready stays pending: the server is not reading, so socket buffers and queues fill up.
    for (let i = 0; i < 400; i++) {
      const ready = await Promise.race([w.ready.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
      if (!ready) { stalled = true; break; }
      void w.write(chunk).catch(() => {});
      written += chunk.byteLength;
    }
    assert.ok(stalled, 'writer stalled');
    console.log(`  (stalled after ${written} bytes written; server read ${serverSocket!.bytesRead} from its socket)`);
    // What the server side holds is bounded: it read from the kernel at most its queues' worth.
    const serverRead = serverSocket!.bytesRead;
    assert.ok(serverRead < 8 * 1024 * 1024, `server read only ${serverRead} bytes while not consuming`);
    assert.ok(written < 100 * 1024 * 1024, `client stopped writing after ${written} bytes`);
    startReading();
    await within(w.ready, 5000, 'ready after the server reads');
    await within(until(() => received === written, 10_000, 'all bytes received'), 11_000);
    w.releaseLock();
    ws.close();
    await within(ws.closed);
  } finally {
    await within(server.close(), 8000, 'server close');
  }
});

test.run();
