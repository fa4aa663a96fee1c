// How the WebSocket class gets its messages over our codec: from the Connection, synchronously as each is decoded,
// with no ReadableStream or WritableStream made (inbox.ts, Connection.listen and Connection.write); and the lazily
// made streams of a WebSocketStream session (opened's value), which hold the messages decoded before they exist.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildClientRequest } from '@streamsocket/handshake';
import { accept, createPipePair, createWebSocketClass, wrapWebSocket, CloseEvent, type AcceptOptions, type WebSocket, type WebSocketStream, type PipeEnd } from '../src/index.js';
import { Connection } from '../src/connection.js';
import { concat } from '../src/wire.js';
import { within, sleep, settle, events, waitFor, rawServer, serverFrame, clientFrame, closePayload, readAll, text } from './helpers.js';

/** A client WebSocket class whose server is a hand-driven peer (rawServer), to control how bytes are chunked. */
async function rawPair() {
  let end: PipeEnd | undefined;
  let client: PipeEnd | undefined;
  const WS = createWebSocketClass(() => {
    const [c, s] = createPipePair();
    end = s;
    client = c;
    return c;
  });
  const ws = new WS('ws://h/');
  ws.binaryType = 'arraybuffer';
  const log = events(ws);
  const peer = await rawServer(end!);
  await waitFor(ws, 'open');
  /** Ends the test's connection at once (the raw peer answers no close frame). */
  const drop = async (): Promise<void> => {
    const closed = ws.readyState === ws.CLOSED ? null : waitFor(ws, 'close');
    client!.reset(new Error('test over'));
    await closed;
  };
  return { ws, log, peer, drop };
}

/** True when the session made neither of its streams (the WebSocket class took everything from the Connection). */
function madeNoStreams(session: WebSocketStream): boolean {
  assert.ok(session.core instanceof Connection, 'a codec session');
  const core = session.core as unknown as { readStream: unknown; writeStream: unknown };
  return core.readStream === null && core.writeStream === null;
}

/**
 * A served session on an in-memory pipe whose client end wrote, in one chunk, the opening request and `frames`
 * (decoded with the request: held until someone takes the messages).
 */
async function served(frames: Uint8Array[], options: AcceptOptions = {}) {
  const [c, s] = createPipePair();
  const session = accept(s, options);
  const w = c.writable.getWriter();
  await w.write(concat([buildClientRequest('ws://example.com/', {}).bytes, ...frames]));
  return { c, w, session };
}

test('a burst in one chunk: every message dispatched in order, synchronously as decoded', async () => {
  const { ws, log, peer, drop } = await rawPair();
  const marks: string[] = [];
  ws.addEventListener('message', (e) => {
    const d = (e as MessageEvent).data;
    marks.push(typeof d === 'string' ? d : `bin${new Uint8Array(d as ArrayBuffer)[0]}`);
    // Queued by the first message: runs after the chunk's last message when they are dispatched as decoded.
    if (marks.length === 1) queueMicrotask(() => marks.push('microtask'));
  });
  const frames: Uint8Array[] = [];
  const want: string[] = [];
  for (let i = 0; i < 50; i++) {
    if (i % 5 === 4) {
      frames.push(serverFrame(2, new Uint8Array([i])));
      want.push(`bin${i}`);
    } else {
      frames.push(serverFrame(1, `m${i}`));
      want.push(`m${i}`);
    }
  }
  await peer.writer.write(concat(frames));
  await within((async () => { while (marks.length < 51) await sleep(2); })(), 3000, 'the burst');
  assert.equal(marks, [...want, 'microtask']);
  assert.equal(log.map((e) => e.type), ['open', ...want.map(() => 'message')]);
  assert.ok((log[5] as MessageEvent).data instanceof ArrayBuffer);
  assert.is((log[5] as MessageEvent).origin, 'ws://h');
  assert.ok(madeNoStreams(ws.session));
  await drop();
});

test('messages then the close frame in one chunk: every message, then close (clean, the code and reason)', async () => {
  const { ws, log, peer } = await rawPair();
  const closed = waitFor(ws, 'close');
  await peer.writer.write(concat([serverFrame(1, 'a'), serverFrame(1, 'b'), serverFrame(8, closePayload(4001, 'done')), ]));
  // Our close frame answers; then the server ends TCP first (RFC 6455 7.1.1).
  const echo = await peer.next();
  assert.is(echo?.type, 'close');
  await peer.writer.close();
  const c = (await closed) as CloseEvent;
  assert.is(c.code, 4001);
  assert.is(c.reason, 'done');
  assert.is(c.wasClean, true);
  assert.equal(log.map((e) => (e.type === 'message' ? (e as MessageEvent).data : e.type)), ['open', 'a', 'b', 'close']);
  assert.ok(madeNoStreams(ws.session));
});

test('a message listener that throws is reported and delivery goes on; the session stays usable', async () => {
  const reported: unknown[] = [];
  const onError = (e: Event): void => {
    e.preventDefault();
    reported.push((e as ErrorEvent).error);
  };
  const onUncaught = (e: unknown): void => void reported.push(e);
  const proc = (globalThis as { process?: { on?: (n: string, f: (e: unknown) => void) => void; off?: (n: string, f: (e: unknown) => void) => void } }).process;
  globalThis.addEventListener?.('error', onError);
  proc?.on?.('uncaughtException', onUncaught);
  try {
    const { ws, peer, drop } = await rawPair();
    const got: string[] = [];
    const boom = new Error('listener failed');
    ws.onmessage = (e) => {
      got.push(e.data as string);
      if (e.data === 'm1') throw boom;
    };
    await peer.writer.write(concat([serverFrame(1, 'm0'), serverFrame(1, 'm1'), serverFrame(1, 'm2')]));
    await peer.writer.write(serverFrame(1, 'm3'));
    await within((async () => { while (got.length < 4 || reported.length === 0) await sleep(2); })(), 3000, 'messages after the throw');
    assert.equal(got, ['m0', 'm1', 'm2', 'm3']);
    assert.ok(reported.includes(boom), 'the exception was reported');
    assert.is(ws.readyState, ws.OPEN);
    ws.send('still open');
    const m = await peer.next();
    assert.equal(m, { type: 'text', data: 'still open' });
    await drop();
  } finally {
    globalThis.removeEventListener?.('error', onError);
    proc?.off?.('uncaughtException', onUncaught);
  }
});

test('server side: messages sent with the opening request are dispatched after open, in order; no streams made', async () => {
  const { c, session } = await served([clientFrame(1, 'early1'), clientFrame(2, new Uint8Array([7])), clientFrame(1, 'early3')]);
  const server = wrapWebSocket(session);
  const log = events(server);
  await within((async () => { while (log.length < 4) await sleep(2); })(), 3000, 'early messages');
  assert.equal(log.map((e) => e.type), ['open', 'message', 'message', 'message']);
  assert.is((log[1] as MessageEvent).data, 'early1');
  assert.ok((log[2] as MessageEvent).data instanceof Blob, 'binaryType blob by default');
  assert.equal([...new Uint8Array(await ((log[2] as MessageEvent).data as Blob).arrayBuffer())], [7]);
  assert.is((log[3] as MessageEvent).data, 'early3');
  assert.ok(madeNoStreams(server.session));
  server.close();
  c.reset(new Error('done'));
});

test('server side wrapped after open (as serve() does): held messages first; sends queued behind a Blob keep their order', async () => {
  const { c, session } = await served([clientFrame(1, 'a'), clientFrame(1, 'b')]);
  await within(session.opened);
  const ws: WebSocket = wrapWebSocket(session);
  const log = events(ws);
  await waitFor(ws, 'message');
  await sleep(5);
  assert.equal(log.map((e) => (e.type === 'message' ? (e as MessageEvent).data : e.type)), ['open', 'a', 'b']);
  // A Blob is read before it is framed, so what follows it waits in the Connection's queue (Connection.write).
  ws.send(new Blob([text.encode('blob')]));
  ws.send('after');
  assert.is(ws.bufferedAmount, 4 + 5);
  const reader = c.readable.getReader();
  let seen = '';
  while (!seen.includes('after')) {
    const r = await within(reader.read());
    if (r.done) break;
    seen += new TextDecoder().decode(r.value);
  }
  assert.ok(seen.indexOf('blob') < seen.indexOf('after'), 'in the order sent');
  assert.is(ws.bufferedAmount, 0);
  assert.ok(madeNoStreams(session));
  ws.close();
  reader.releaseLock();
  c.reset(new Error('done'));
});

test('a session whose readable was taken before wrapping: the class reads the readable instead', async () => {
  const { c, w, session } = await served([]);
  const info = await within(session.opened);
  void info.readable; // made: the class can no longer listen
  const ws = wrapWebSocket(session);
  const got = waitFor(ws, 'message');
  await waitFor(ws, 'open');
  await w.write(clientFrame(1, 'through the readable'));
  assert.is(((await got) as MessageEvent).data, 'through the readable');
  ws.close();
  c.reset(new Error('done'));
});

test('WebSocketStream: opened holds { readable, writable, protocol, extensions }; messages before the readable is read wait for it', async () => {
  // More than the high-water mark arrives before anyone asks for the readable, then the close frame.
  const { c, session } = await served([clientFrame(1, 'one'), clientFrame(1, 'two'), clientFrame(1, 'three'), clientFrame(8, closePayload(1000))], { readHighWaterMark: 4 });
  const info = await within(session.opened);
  assert.equal(Object.keys(info), ['readable', 'writable', 'protocol', 'extensions']);
  assert.is(info.protocol, '');
  assert.ok(info.readable instanceof ReadableStream);
  assert.ok(info.writable instanceof WritableStream);
  assert.is(info.readable, info.readable, 'one readable');
  const { readable, writable } = { ...info };
  assert.is(readable, info.readable);
  assert.is(writable, info.writable);
  await sleep(5);
  assert.equal(await readAll(readable), ['one', 'two', 'three']);
  c.reset(new Error('done'));
  await settle(session.closed);
});

test.run();
