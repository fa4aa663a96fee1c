// What the WebSocket class's send() and message events do with the bytes: send() takes them as they are at the
// call (later changes to the caller's buffer are not sent), every binary message handed out is an ArrayBuffer of
// its own (never the sender's buffer over a pipe, never shared with another message), and binaryType applies to
// each message as it is dispatched. The class sends without a copy of its own when it can frame at once, and
// hands out the decoder's buffer when it owns it: these tests pin what a user sees either way.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair, createWebSocketClass, wrapWebSocket, type AcceptOptions, type WebSocketStream } from '../src/index.js';
import { within, sleep } from './helpers.js';

/** Sends `data`, then overwrites its bytes: what the peer receives must be what they were at send(). */
function sendThenOverwrite(ws: { send(data: Uint8Array | ArrayBuffer): void }, data: Uint8Array | ArrayBuffer): void {
  ws.send(data);
  (data instanceof Uint8Array ? data : new Uint8Array(data)).fill(9);
}

function waitFor(ws: EventTarget, type: string): Promise<Event> {
  return within(new Promise((r) => ws.addEventListener(type, r, { once: true })), 3000, `event ${type}`);
}

/** A WebSocket class over a pipe to a stream-API server; `server` is the last one accepted. */
function harness(serverOpts: AcceptOptions = {}, pipeHwm?: number) {
  const h: { WS: ReturnType<typeof createWebSocketClass>; server: WebSocketStream | null } = { WS: null as never, server: null };
  h.WS = createWebSocketClass(() => {
    const [c, s] = createPipePair(pipeHwm === undefined ? {} : { highWaterMark: pipeHwm });
    h.server = accept(s, serverOpts);
    return c;
  });
  return h;
}

/** Reads `n` messages from a session's readable. */
async function readN(session: WebSocketStream, n: number): Promise<Array<string | Uint8Array>> {
  const { readable } = await session.opened;
  const reader = readable.getReader();
  const out: Array<string | Uint8Array> = [];
  while (out.length < n) {
    const { done, value } = await within(reader.read(), 3000, `message ${out.length + 1} of ${n}`);
    if (done) break;
    out.push(value as string | Uint8Array);
  }
  reader.releaseLock();
  return out;
}

const filled = (n: number, v: number) => new Uint8Array(n).fill(v);
const bytesOf = (m: unknown) => Array.from(m as Uint8Array);
const allEqual = (m: Uint8Array | ArrayBuffer, v: number, n: number) => {
  const u = m instanceof Uint8Array ? m : new Uint8Array(m);
  return u.byteLength === n && u.every((b) => b === v);
};

test('send(): a buffer changed right after send() is sent as it was (framed at once, and queued behind a Blob)', async () => {
  const h = harness();
  const ws = new h.WS('ws://h/');
  await waitFor(ws, 'open');
  const got = readN(h.server!, 9);
  // Nothing queued: framed at once.
  const a = filled(3000, 1);
  sendThenOverwrite(ws, a);
  const ab = filled(200, 2).buffer;
  sendThenOverwrite(ws, ab);
  const big = filled(100, 0);
  big.set([7, 7, 7], 40);
  const view = new DataView(big.buffer, 40, 3);
  ws.send(view);
  big.fill(9);
  const small = filled(10, 3);
  sendThenOverwrite(ws, small);
  // A Blob is read asynchronously: what follows it waits in the writable, as a snapshot.
  ws.send(new Blob([filled(5, 4)]));
  const b = filled(3000, 5);
  sendThenOverwrite(ws, b);
  const c = filled(10, 6);
  ws.send(c.subarray(2, 8));
  c.fill(9); // the whole buffer under the sent view
  const d = filled(70_000, 7).buffer;
  sendThenOverwrite(ws, d);
  ws.send('text stays text');
  const m = await got;
  assert.ok(allEqual(m[0] as Uint8Array, 1, 3000), 'direct, Uint8Array');
  assert.ok(allEqual(m[1] as Uint8Array, 2, 200), 'direct, ArrayBuffer');
  assert.equal(bytesOf(m[2]), [7, 7, 7], 'direct, DataView');
  assert.ok(allEqual(m[3] as Uint8Array, 3, 10), 'direct, small');
  assert.ok(allEqual(m[4] as Uint8Array, 4, 5), 'Blob');
  assert.ok(allEqual(m[5] as Uint8Array, 5, 3000), 'queued, Uint8Array');
  assert.ok(allEqual(m[6] as Uint8Array, 6, 6), 'queued, subarray');
  assert.ok(allEqual(m[7] as Uint8Array, 7, 70_000), 'queued, ArrayBuffer');
  assert.is(m[8], 'text stays text');
  ws.close();
  await waitFor(ws, 'close');
});

test('send(): while the socket is congested later sends queue, and each is sent as it was at its call', async () => {
  const h = harness({}, 1024); // a small pipe: the first large message fills it
  const ws = new h.WS('ws://h/');
  await waitFor(ws, 'open');
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 6; i++) {
    const u = filled(50_000 + i, i + 1);
    ws.send(u);
    sent.push(u);
    u.fill(0xee);
  }
  assert.ok(ws.bufferedAmount > 0, 'counted while the socket is full');
  const m = await readN(h.server!, 6);
  for (let i = 0; i < 6; i++) assert.ok(allEqual(m[i] as Uint8Array, i + 1, 50_000 + i), `message ${i}`);
  await within((async () => {
    while (ws.bufferedAmount > 0) await sleep(5);
  })(), 3000, 'bufferedAmount back to 0');
  ws.close();
  await waitFor(ws, 'close');
});

test('send() on a server-side WebSocket (unmasked frames): a buffer changed right after send() is sent as it was', async () => {
  const [c, s] = createPipePair();
  const server = wrapWebSocket(accept(s));
  const client = connect(c, 'ws://h/');
  await waitFor(server, 'open');
  const got = readN(client, 5);
  const a = filled(5000, 1); // above the encoder's 125-byte copy limit: written as is unless snapshotted
  sendThenOverwrite(server, a);
  const b = filled(100, 2);
  sendThenOverwrite(server, b);
  const ab = filled(70_000, 3).buffer;
  sendThenOverwrite(server, ab);
  // A Uint8Array subclass whose slice() is a view, as Node's Buffer's is: it must still be snapshotted.
  class ViewSlice extends Uint8Array {
    override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
      return this.subarray(start, end);
    }
  }
  const v = new ViewSlice(3000).fill(4);
  sendThenOverwrite(server, v);
  server.send(new Blob(['x']));
  const m = await got;
  assert.ok(allEqual(m[0] as Uint8Array, 1, 5000));
  assert.ok(allEqual(m[1] as Uint8Array, 2, 100));
  assert.ok(allEqual(m[2] as Uint8Array, 3, 70_000));
  assert.ok(allEqual(m[3] as Uint8Array, 4, 3000), 'a subclass whose slice() is a view');
  server.close(1000);
  await within(client.closed);
});

for (const [name, opts] of [
  ['whole frames (each payload a chunk of its own over the pipe)', {}],
  ['fragmented messages (joined by the decoder)', { fragmentSize: 700 }],
] as const) {
  test(`onmessage ArrayBuffers are the message's own: not the sender's buffer, not shared with a later message; ${name}`, async () => {
    const h = harness(opts);
    const ws = new h.WS('ws://h/');
    ws.binaryType = 'arraybuffer';
    await waitFor(ws, 'open');
    const { writable } = await h.server!.opened;
    const w = writable.getWriter();
    const shared = filled(4096, 1);
    const got: ArrayBuffer[] = [];
    const two = within(new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        got.push((e as MessageEvent).data as ArrayBuffer);
        if (got.length === 2) resolve();
      };
    }), 3000, 'two messages');
    await w.write(shared);
    await w.write(shared); // the same buffer again
    await two;
    const [x, y] = got as [ArrayBuffer, ArrayBuffer];
    assert.instance(x, ArrayBuffer);
    assert.ok(x !== y, 'two messages, two ArrayBuffers');
    assert.ok(x !== shared.buffer && y !== shared.buffer, "not the sender's buffer");
    assert.is(x.byteLength, 4096);
    new Uint8Array(x).fill(2);
    assert.ok(allEqual(y, 1, 4096), 'changing the first message leaves the second');
    shared.fill(3);
    assert.ok(allEqual(y, 1, 4096), "changing the sender's buffer leaves what was received");
    w.releaseLock();
    ws.close();
    await waitFor(ws, 'close');
  });
}

test('a large message spanning many socket chunks arrives whole, as an ArrayBuffer of exactly its bytes', async () => {
  const h = harness({}, 4096);
  const ws = new h.WS('ws://h/');
  ws.binaryType = 'arraybuffer';
  await waitFor(ws, 'open');
  const recv = waitFor(ws, 'message');
  const msg = new Uint8Array(300_000);
  for (let i = 0; i < msg.length; i++) msg[i] = (i * 7) & 255;
  ws.send(msg); // the server echoes it below, as the client's masked frame arrives in pieces
  const [m] = await readN(h.server!, 1);
  const { writable } = await h.server!.opened;
  const w = writable.getWriter();
  await w.write(m!);
  const e = (await recv) as MessageEvent;
  const data = e.data as ArrayBuffer;
  assert.instance(data, ArrayBuffer);
  assert.is(data.byteLength, msg.byteLength);
  const u = new Uint8Array(data);
  let same = true;
  for (let i = 0; i < msg.length; i++) if (u[i] !== msg[i]) same = false;
  assert.ok(same);
  w.releaseLock();
  ws.close();
  await waitFor(ws, 'close');
});

test('binaryType applies to each message as it is dispatched (switched between messages already received)', async () => {
  const h = harness({ fragmentSize: 1500 });
  const ws = new h.WS('ws://h/');
  await waitFor(ws, 'open');
  const { writable } = await h.server!.opened;
  const w = writable.getWriter();
  const seen: string[] = [];
  const contents: Promise<number[]>[] = [];
  const done = within(new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      const d = (e as MessageEvent).data as ArrayBuffer | Blob;
      seen.push(d instanceof Blob ? 'blob' : d instanceof ArrayBuffer ? 'arraybuffer' : typeof d);
      contents.push(d instanceof Blob ? d.arrayBuffer().then((b) => [b.byteLength, new Uint8Array(b)[0]!]) : Promise.resolve([d.byteLength, new Uint8Array(d)[0]!]));
      ws.binaryType = ws.binaryType === 'blob' ? 'arraybuffer' : 'blob';
      if (seen.length === 6) resolve();
    };
  }), 3000, 'six messages');
  // Written together: all six are decoded before the first is dispatched. Small ones, and large ones the
  // decoder joins from fragments (its own buffer, handed out or copied into a Blob).
  const sizes = [10, 5000, 20, 6000, 3000, 30];
  for (let i = 0; i < sizes.length; i++) void w.write(filled(sizes[i]!, i + 1));
  await done;
  assert.equal(seen, ['blob', 'arraybuffer', 'blob', 'arraybuffer', 'blob', 'arraybuffer']);
  const c = await Promise.all(contents);
  assert.equal(c, sizes.map((n, i) => [n, i + 1]));
  w.releaseLock();
  ws.close();
  await waitFor(ws, 'close');
});

test('bufferedAmount: counted at send(), back to 0 once written; discarded bytes after close() stay counted', async () => {
  const h = harness();
  const ws = new h.WS('ws://h/');
  await waitFor(ws, 'open');
  const got = readN(h.server!, 2);
  ws.send(filled(1000, 1));
  ws.send('é');
  assert.is(ws.bufferedAmount, 1002);
  await sleep(10);
  assert.is(ws.bufferedAmount, 0);
  assert.is((await got).length, 2);
  ws.close();
  ws.send(filled(7, 0));
  assert.is(ws.bufferedAmount, 7);
  await waitFor(ws, 'close');
});

test.run();
