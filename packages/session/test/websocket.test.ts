import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, createPipePair, createWebSocketClass, createWebSocketStreamClass, wrapWebSocket, WebSocket, WebSocketStream as WSS, CloseEvent, type AcceptOptions, type WebSocketStream } from '../src/index.js';
import { within, sleep, settle, events, waitFor } from './helpers.js';

/** A WebSocket class whose dialer connects to an in-memory echo-ish server. */
function harness(serverOpts: AcceptOptions = {}, onServer?: (s: WebSocketStream) => void) {
  const servers: WebSocketStream[] = [];
  const dials: URL[] = [];
  const WS = createWebSocketClass((url) => {
    dials.push(url);
    const [c, s] = createPipePair();
    const server = accept(s, serverOpts);
    servers.push(server);
    if (onServer) onServer(server);
    else void echo(server);
    return Promise.resolve(c);
  });
  return { WS, servers, dials };
}

async function echo(server: WebSocketStream) {
  try {
    const { readable, writable } = await server.opened;
    await readable.pipeTo(writable);
  } catch {
    /* closed */
  }
}

test('constants on the class and on instances; initial state', async () => {
  const { WS } = harness();
  assert.is(WS.CONNECTING, 0);
  assert.is(WS.OPEN, 1);
  assert.is(WS.CLOSING, 2);
  assert.is(WS.CLOSED, 3);
  assert.is(WebSocket.CLOSED, 3);
  const ws = new WS('ws://example.com/path', ['chat']);
  assert.instance(ws, WebSocket);
  assert.instance(ws, EventTarget);
  assert.is(ws.CONNECTING, 0);
  assert.is(ws.OPEN, 1);
  assert.is(ws.CLOSING, 2);
  assert.is(ws.CLOSED, 3);
  assert.is(ws.readyState, 0);
  assert.is(ws.url, 'ws://example.com/path');
  assert.is(ws.binaryType, 'blob');
  assert.is(ws.bufferedAmount, 0);
  assert.is(ws.protocol, '');
  assert.is(ws.extensions, '');
  await waitFor(ws, 'open');
  ws.close();
  await waitFor(ws, 'close');
});

test('constructor throws SyntaxError for bad URLs and protocol lists', () => {
  const { WS } = harness();
  for (const [url, protocols] of [
    ['ftp://h/', undefined],
    ['ws://h/#x', undefined],
    ['not a url', undefined],
    ['ws://h/', ['a', 'a']],
    ['ws://h/', ['bad protocol']],
  ] as const) {
    assert.throws(() => new WS(url, protocols as string[] | undefined), (e: Error) => e.name === 'SyntaxError', url);
  }
  assert.throws(() => new (WebSocket as unknown as new (u: string) => WebSocket)('ws://h/'), TypeError);
});

test('send throws InvalidStateError while CONNECTING; open -> message -> close event sequence', async () => {
  const { WS } = harness({ protocols: ['chat'] });
  const ws = new WS('http://example.com/', 'chat');
  assert.is(ws.url, 'ws://example.com/');
  let err: DOMException | undefined;
  try {
    ws.send('too early');
  } catch (e) {
    err = e as DOMException;
  }
  assert.is(err?.name, 'InvalidStateError');
  const log = events(ws);
  await waitFor(ws, 'open');
  assert.is(ws.readyState, 1);
  assert.is(ws.protocol, 'chat');
  ws.send('hello');
  const m = (await waitFor(ws, 'message')) as MessageEvent;
  assert.is(m.data, 'hello');
  assert.is(m.origin, 'ws://example.com');
  ws.close(1000, 'done');
  assert.is(ws.readyState, 2);
  const c = (await waitFor(ws, 'close')) as CloseEvent;
  assert.instance(c, CloseEvent);
  assert.is(c.code, 1000);
  assert.is(c.reason, 'done');
  assert.is(c.wasClean, true);
  assert.is(ws.readyState, 3);
  assert.equal(log.map((e) => e.type), ['open', 'message', 'close']);
});

test('binaryType blob (default) and arraybuffer; all send() types', async () => {
  const { WS } = harness();
  const ws = new WS('ws://h/');
  await waitFor(ws, 'open');
  const received: unknown[] = [];
  ws.onmessage = (e) => received.push((e as MessageEvent).data);
  ws.send(new Uint8Array([1, 2, 3]));
  await sleep(10);
  assert.instance(received[0], Blob);
  assert.equal(Array.from(new Uint8Array(await (received[0] as Blob).arrayBuffer())), [1, 2, 3]);
  ws.binaryType = 'arraybuffer';
  ws.binaryType = 'bogus' as 'blob'; // ignored
  assert.is(ws.binaryType, 'arraybuffer');
  const buf = new Uint8Array([9, 9]).buffer;
  ws.send(buf);
  new Uint8Array(buf)[0] = 0; // send() copied it
  ws.send(new DataView(new Uint8Array([4, 5, 6]).buffer, 1));
  ws.send(new Blob(['blob!']));
  ws.send(42 as unknown as string);
  await sleep(20);
  assert.instance(received[1], ArrayBuffer);
  assert.equal(Array.from(new Uint8Array(received[1] as ArrayBuffer)), [9, 9]);
  assert.equal(Array.from(new Uint8Array(received[2] as ArrayBuffer)), [5, 6]);
  assert.equal(new TextDecoder().decode(received[3] as ArrayBuffer), 'blob!');
  assert.is(received[4], '42');
  ws.close();
  await waitFor(ws, 'close');
});

test('on* attributes: set, replace, clear; listeners registered in order', async () => {
  const { WS } = harness();
  const ws = new WS('ws://h/');
  const order: string[] = [];
  ws.addEventListener('open', () => order.push('listener1'));
  ws.onopen = () => order.push('old handler');
  ws.onopen = () => order.push('handler');
  ws.addEventListener('open', () => order.push('listener2'));
  assert.type(ws.onopen, 'function');
  ws.onerror = () => {};
  ws.onerror = null;
  assert.is(ws.onerror, null);
  assert.is(ws.onmessage, null);
  ws.onclose = function (this: WebSocket) {
    order.push('close:' + (this === ws));
  };
  await waitFor(ws, 'open');
  assert.equal(order, ['listener1', 'handler', 'listener2']);
  ws.close(4000);
  await waitFor(ws, 'close');
  assert.equal(order.slice(3), ['close:true']);
});

test('close(): WHATWG exceptions; send after close counts bufferedAmount and discards', async () => {
  const { WS, servers } = harness();
  const ws = new WS('ws://h/');
  await waitFor(ws, 'open');
  const name = (f: () => void) => {
    try {
      f();
      return 'none';
    } catch (e) {
      return (e as DOMException).name;
    }
  };
  assert.is(name(() => ws.close(1001)), 'InvalidAccessError');
  assert.is(name(() => ws.close(999)), 'InvalidAccessError');
  assert.is(name(() => ws.close(5000)), 'InvalidAccessError');
  assert.is(name(() => ws.close(1000, '€'.repeat(42))), 'SyntaxError');
  assert.is(ws.readyState, 1);
  ws.close(3500, 'r');
  assert.is(ws.readyState, 2);
  ws.send('discarded'); // no throw
  ws.send(new Uint8Array(10));
  assert.is(ws.bufferedAmount, 19);
  ws.close(); // no-op while closing
  const c = (await waitFor(ws, 'close')) as CloseEvent;
  assert.is(c.code, 3500);
  assert.is(ws.bufferedAmount, 19, 'never reset');
  ws.send('more');
  assert.is(ws.bufferedAmount, 23);
  assert.equal(await within(servers[0]!.closed), { closeCode: 3500, reason: 'r' });
});

test('bufferedAmount counts UTF-8 bytes until handed to the encoder', async () => {
  const { WS } = harness();
  const ws = new WS('ws://h/');
  await waitFor(ws, 'open');
  ws.send('é€');
  assert.is(ws.bufferedAmount, 5);
  await sleep(10);
  assert.is(ws.bufferedAmount, 0);
  ws.close();
  await waitFor(ws, 'close');
});

test('close() while CONNECTING: error then close(1006, wasClean false)', async () => {
  const { WS } = harness();
  const ws = new WS('ws://h/');
  const log = events(ws);
  ws.close();
  assert.is(ws.readyState, 2);
  const c = (await waitFor(ws, 'close')) as CloseEvent;
  assert.is(c.code, 1006);
  assert.is(c.wasClean, false);
  assert.equal(log.map((e) => e.type), ['error', 'close']);
  assert.is(ws.readyState, 3);
});

test('refused handshake: error then close(1006)', async () => {
  const { WS } = harness({ onRequest: () => ({ status: 403 }) });
  const ws = new WS('ws://h/');
  const log = events(ws);
  await waitFor(ws, 'close');
  assert.equal(log.map((e) => e.type), ['error', 'close']);
  assert.is((log[1] as CloseEvent).code, 1006);
});

test('dialer failure: error then close(1006)', async () => {
  const WS = createWebSocketClass(() => Promise.reject(new Error('ECONNREFUSED')));
  const ws = new WS('ws://h/');
  const log = events(ws);
  await waitFor(ws, 'close');
  assert.equal(log.map((e) => e.type), ['error', 'close']);
  const WS2 = createWebSocketClass(() => {
    throw new Error('sync failure');
  });
  const ws2 = new WS2('ws://h/');
  await waitFor(ws2, 'close');
});

test('abrupt disconnect: error then close(1006, wasClean false), after pending messages', async () => {
  let serverEnd: WebSocketStream | undefined;
  const pipes: ReturnType<typeof createPipePair>[] = [];
  const WS = createWebSocketClass(() => {
    const pair = createPipePair();
    pipes.push(pair);
    serverEnd = accept(pair[1]);
    return pair[0];
  });
  const ws = new WS('ws://h/');
  const log = events(ws);
  await waitFor(ws, 'open');
  const { writable } = await serverEnd!.opened;
  const w = writable.getWriter();
  await w.write('before');
  await sleep(5);
  pipes[0]![0].reset(new Error('gone'));
  const c = (await waitFor(ws, 'close')) as CloseEvent;
  assert.is(c.code, 1006);
  assert.is(c.wasClean, false);
  assert.equal(log.map((e) => e.type), ['open', 'message', 'error', 'close']);
  await settle(serverEnd!.closed);
});

test('server-initiated close and server-side wrapWebSocket', async () => {
  const WS = createWebSocketClass(() => {
    const [c, s] = createPipePair();
    const server = wrapWebSocket(accept(s));
    server.onopen = () => server.send('welcome');
    server.onmessage = (e) => {
      if ((e as MessageEvent).data === 'bye') server.close(4999, 'server says bye');
    };
    return c;
  });
  const ws = new WS('ws://h/');
  const m = (await waitFor(ws, 'message')) as MessageEvent;
  assert.is(m.data, 'welcome');
  ws.send('bye');
  const c = (await waitFor(ws, 'close')) as CloseEvent;
  assert.is(c.code, 4999);
  assert.is(c.reason, 'server says bye');
  assert.is(c.wasClean, true);
});

test('server close reaches the WebSocket (readyState CLOSED in onclose); ping() extension', async () => {
  let srv: WebSocketStream | undefined;
  const WS = createWebSocketClass(() => {
    const [c, s] = createPipePair();
    srv = accept(s);
    return c;
  });
  const ws = new WS('ws://h/');
  await waitFor(ws, 'open');
  await within(ws.ping());
  await srv!.opened;
  const states: number[] = [];
  ws.onclose = () => states.push(ws.readyState);
  const closed = waitFor(ws, 'close');
  srv!.close({ closeCode: 1000 });
  await closed;
  assert.equal(states, [3]);
});

test('a dialer may return a ready WebSocketStream (adapter-owned handshake)', async () => {
  const { connect } = await import('../src/index.js');
  const WS = createWebSocketClass((url) => {
    const [c, s] = createPipePair();
    void echo(accept(s));
    return connect(c, url);
  });
  const ws = new WS('ws://h/');
  await waitFor(ws, 'open');
  ws.send('x');
  assert.is(((await waitFor(ws, 'message')) as MessageEvent).data, 'x');
  ws.close();
  await waitFor(ws, 'close');
  const WS2 = createWebSocketClass((url) => {
    const [c, s] = createPipePair();
    void echo(accept(s));
    return Promise.resolve(connect(c, url)) as never;
  });
  const ws2 = new WS2('ws://h/');
  const log = events(ws2);
  await waitFor(ws2, 'close');
  assert.equal(log.map((e) => e.type), ['error', 'close'], 'a promise of a session is rejected clearly');
});

test('options given to the factory apply (protocol negotiation, limits)', async () => {
  const { WS, dials } = harness({ protocols: ['b'] });
  const ws = new WS('wss://secure.example/x', ['a', 'b']);
  await waitFor(ws, 'open');
  assert.is(ws.protocol, 'b');
  assert.is(dials[0]!.protocol, 'wss:');
  ws.close();
  await waitFor(ws, 'close');
});

test('createWebSocketStreamClass: new WebSocketStream(url, { protocols, signal })', async () => {
  const WebSocketStream = createWebSocketStreamClass(() => {
    const [c, s] = createPipePair();
    void echo(accept(s, { protocols: ['p2'] }));
    return Promise.resolve(c);
  });
  const wss = new WebSocketStream('ws://h/x', { protocols: ['p1', 'p2'] });
  assert.instance(wss, WebSocketStream);
  assert.instance(wss, WSS);
  const { readable, writable, protocol } = await within(wss.opened);
  assert.is(protocol, 'p2');
  const w = writable.getWriter();
  await w.write('echo me');
  const r = readable.getReader();
  assert.is((await within(r.read())).value, 'echo me');
  wss.close({ closeCode: 1000, reason: 'ok' });
  assert.equal(await within(wss.closed), { closeCode: 1000, reason: 'ok' });
  assert.throws(() => new WebSocketStream('ftp://h/'), (e: Error) => e.name === 'SyntaxError');
  assert.throws(() => (WebSocketStream as unknown as (u: string) => unknown)('ws://h/'), TypeError);
  // The signal aborts the dial/handshake.
  let dialSignal: AbortSignal | undefined;
  const Slow = createWebSocketStreamClass((_url, { signal }) => {
    dialSignal = signal;
    return new Promise(() => {});
  });
  const ac = new AbortController();
  const slow = new Slow('ws://h/', { signal: ac.signal });
  ac.abort();
  const o = await settle(slow.opened);
  assert.is((o as { error: DOMException }).error.name, 'AbortError');
  assert.ok(dialSignal!.aborted, 'the dialer was told to stop');
});

test.run();
