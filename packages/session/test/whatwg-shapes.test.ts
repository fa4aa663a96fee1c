// The WHATWG shapes as browser code knows them, and errors a user can act on: typed events (MessageEvent data by
// binaryType, CloseEvent, an ErrorEvent carrying the cause), WebSocketStream constructed from a URL, and messages
// that name the URL and the HTTP status. Each test is a row of the conformance table in the package README.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HandshakeError } from '@streamsocket/handshake';
import {
  accept, connect, createPipePair, createWebSocketClass, createWebSocketStreamClass, WebSocketError, WebSocketStream,
  type AcceptOptions, type Dialer, type WebSocketCloseEvent, type WebSocketErrorEvent, type WebSocketMessageEvent,
} from '../src/index.js';
import { within } from './helpers.js';

/** A dialer whose every connection reaches a fresh accept()ed echo session with these options. */
function echoDialer(options: AcceptOptions = {}): Dialer {
  return () => {
    const [c, s] = createPipePair();
    const server = accept(s, options);
    server.opened.then(({ readable, writable }) => readable.pipeTo(writable)).catch(() => {});
    return c;
  };
}

const next = <T extends Event>(target: EventTarget, type: string): Promise<T> =>
  new Promise((resolve) => target.addEventListener(type, (e) => resolve(e as T), { once: true }));

test('ws-message-data: text is a string; binary an ArrayBuffer or a Blob by binaryType (onmessage typed)', async () => {
  const WS = createWebSocketClass(echoDialer());
  const ws = new WS('ws://example.test/');
  const got: (string | ArrayBuffer | Blob)[] = [];
  // Type-checked: e is a WebSocketMessageEvent, e.data is string | ArrayBuffer | Blob.
  ws.onmessage = (e) => { got.push(e.data); };
  await next(ws, 'open');
  ws.send('text');
  ws.send(new Uint8Array([1, 2]));
  await within((async () => { while (got.length < 2) await new Promise((r) => setTimeout(r, 5)); })(), 2000, 'two messages');
  assert.is(got[0], 'text');
  assert.instance(got[1], Blob, 'binaryType blob (the default)');
  ws.binaryType = 'arraybuffer';
  ws.send(new Uint8Array([3]));
  const e = await next<WebSocketMessageEvent>(ws, 'message');
  assert.instance(e.data, ArrayBuffer);
  assert.equal([...new Uint8Array(e.data as ArrayBuffer)], [3]);
  assert.is(e.origin, 'ws://example.test');
  ws.close(1000);
  await next(ws, 'close');
});

test('ws-close-event: addEventListener("close") is typed CloseEvent: code, reason, wasClean', async () => {
  const WS = createWebSocketClass(echoDialer());
  const ws = new WS('ws://example.test/');
  let seen: { code: number; reason: string; wasClean: boolean } | null = null;
  ws.addEventListener('close', (e) => { seen = { code: e.code, reason: e.reason, wasClean: e.wasClean }; });
  const closed = next<WebSocketCloseEvent>(ws, 'close');
  await next(ws, 'open');
  ws.close(4000, 'done');
  await closed;
  assert.equal(seen, { code: 4000, reason: 'done', wasClean: true });
});

test('ws-error-cause: a failed dial gives an error event whose error is the socket error (code ECONNREFUSED)', async () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const WS = createWebSocketClass(() => Promise.reject(refused));
  const ws = new WS('ws://127.0.0.1:9/');
  const order: string[] = [];
  let error: WebSocketErrorEvent | null = null;
  ws.onerror = (e) => { order.push('error'); error = e; };
  ws.onclose = (e) => { order.push(`close ${e.code} ${e.wasClean}`); };
  await within(next(ws, 'close'), 2000, 'close');
  assert.equal(order, ['error', 'close 1006 false']);
  assert.is(error!.error, refused);
  assert.match(error!.message ?? '', 'ECONNREFUSED');
});

test('ws-error-refused: a refused handshake: the error event carries the HandshakeError (status, URL in message)', async () => {
  const WS = createWebSocketClass(echoDialer({ path: '/only-here' }));
  const ws = new WS('ws://example.test/elsewhere');
  const e = await within(next<WebSocketErrorEvent>(ws, 'error'), 2000, 'error');
  assert.instance(e.error, HandshakeError);
  assert.is((e.error as HandshakeError).status, 404);
  assert.match(e.message ?? '', 'ws://example.test/elsewhere refused the WebSocket handshake: HTTP 404 Not Found');
});

test('ws-error-lost: a connection lost while open: error event, then close 1006; the error says why', async () => {
  let reset!: () => void;
  const WS = createWebSocketClass(() => {
    const [c, s] = createPipePair();
    accept(s).opened.catch(() => {});
    reset = () => c.reset(new Error('connection reset by peer'));
    return c;
  });
  const ws = new WS('ws://example.test/');
  await next(ws, 'open');
  const err = next<WebSocketErrorEvent>(ws, 'error');
  const close = next<WebSocketCloseEvent>(ws, 'close');
  reset();
  const e = await within(err, 2000, 'error');
  assert.instance(e.error, WebSocketError);
  assert.is((e.error as WebSocketError).closeCode, 1006);
  assert.ok((e.error as Error).cause !== undefined, 'the WebSocketError has the underlying cause');
  assert.is((await close).code, 1006);
});

test('wss-constructor: new WebSocketStream(url, { protocols, signal }) from a dialer-bound class', async () => {
  const WSS = createWebSocketStreamClass(echoDialer({ protocols: ['v2'] }));
  const ws = new WSS('ws://example.test/', { protocols: ['v1', 'v2'] });
  assert.instance(ws, WebSocketStream);
  const { readable, writable, protocol } = await ws.opened;
  assert.is(protocol, 'v2');
  await writable.getWriter().write('x');
  assert.is((await readable.getReader().read()).value, 'x');
  ws.close({ closeCode: 1000, reason: 'bye' });
  assert.equal(await ws.closed, { closeCode: 1000, reason: 'bye' });
});

test('wss-signal: aborting the signal rejects opened with its reason and closed with a WebSocketError', async () => {
  const WSS = createWebSocketStreamClass(() => new Promise(() => {}));
  const ac = new AbortController();
  const ws = new WSS('ws://example.test/', { signal: ac.signal });
  const reason = new Error('no longer needed');
  ac.abort(reason);
  assert.is(await ws.opened.then(() => null, (e: unknown) => e), reason);
  const c = await ws.closed.then(() => null, (e: unknown) => e);
  assert.instance(c, WebSocketError);
  assert.is((c as WebSocketError).closeCode, 1006);
});

test('wss-refused: a refused opening rejects opened (HandshakeError: status, URL) and closed (cause: that error)', async () => {
  const [c, s] = createPipePair();
  accept(s, { onRequest: () => ({ status: 403 }) }).opened.catch(() => {});
  const ws = connect(c, 'ws://user:secret@example.test/chat');
  const e = await ws.opened.then(() => null, (x: unknown) => x);
  assert.instance(e, HandshakeError);
  assert.is((e as HandshakeError).status, 403);
  assert.match((e as Error).message, 'ws://user:***@example.test/chat refused the WebSocket handshake: HTTP 403 Forbidden');
  assert.not.match((e as Error).message, 'secret', 'no password in messages');
  const closed = await ws.closed.then(() => null, (x: unknown) => x);
  assert.instance(closed, WebSocketError);
  assert.is((closed as Error).cause, e);
});

test('wss-timeout: a dial that never completes: opened rejects with HANDSHAKE_TIMEOUT naming the URL and the bound', async () => {
  const WSS = createWebSocketStreamClass(() => new Promise(() => {}), { handshakeTimeout: 50 });
  const ws = new WSS('ws://example.test:81/slow');
  const e = await within(ws.opened.then(() => null, (x: unknown) => x), 2000, 'timeout');
  assert.instance(e, HandshakeError);
  assert.is((e as HandshakeError).code, 'HANDSHAKE_TIMEOUT');
  assert.match((e as Error).message, 'opening ws://example.test:81/slow timed out after 50 ms');
  const closed = await ws.closed.then(() => null, (x: unknown) => x);
  assert.is((closed as Error).cause, e, 'closed rejects with the timeout as cause');
});

test('url-errors: an invalid URL or scheme throws SyntaxError naming the URL', () => {
  const WS = createWebSocketClass(echoDialer());
  assert.throws(() => new WS('not a url'), (e: Error) => e instanceof SyntaxError && e.message.includes('"not a url"'));
  assert.throws(() => new WS('ftp://example.test/'), (e: Error) => e instanceof SyntaxError && e.message.includes('ftp://example.test/'));
  const WSS = createWebSocketStreamClass(echoDialer());
  assert.throws(() => new WSS('ws://example.test/#frag'), (e: Error) => e instanceof SyntaxError && e.message.includes('ws://example.test/#frag'));
});

test.run();
