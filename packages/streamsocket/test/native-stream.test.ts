// The browser entry's WebSocketStream over a host WebSocket class. The host here is the session's own WHATWG
// WebSocket class dialing an in-memory pipe to an accept()ed server session, so the test needs no browser; the
// Chromium run of the consumer suite drives the same code over the page's real WebSocket.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, createPipePair, createWebSocketClass, WebSocketError, type WebSocketStream as ServerSession, type AcceptOptions } from '@streamsocket/session';
import { createNativeWebSocketStreamClass, type HostWebSocketConstructor } from '../src/native-stream.js';

/** A host WebSocket class whose every connection reaches a fresh server session handled by `onServer`. */
function hostPair(onServer: (s: ServerSession) => void, options: AcceptOptions = {}): HostWebSocketConstructor {
  return createWebSocketClass(() => {
    const [c, s] = createPipePair();
    onServer(accept(s, options));
    return c;
  }) as unknown as HostWebSocketConstructor;
}

const echo = async (s: ServerSession): Promise<void> => {
  const { readable, writable } = await s.opened;
  await readable.pipeTo(writable).catch(() => {});
};

test('opened, text and binary echo as string and Uint8Array, close({ closeCode, reason }) resolves closed', async () => {
  const WSS = createNativeWebSocketStreamClass(() => hostPair(echo, { protocols: ['chat'] }));
  const ws = new WSS('ws://example.test/echo', { protocols: ['chat'] });
  const { readable, writable, protocol } = await ws.opened;
  assert.is(protocol, 'chat');
  const w = writable.getWriter();
  const r = readable.getReader();
  await w.write('héllo');
  await w.write(new Uint8Array([1, 2, 255]));
  assert.is((await r.read()).value, 'héllo');
  const bin = (await r.read()).value;
  assert.instance(bin, Uint8Array);
  assert.equal([...(bin as Uint8Array)], [1, 2, 255]);
  ws.close({ closeCode: 1000, reason: 'bye' });
  assert.equal(await ws.closed, { closeCode: 1000, reason: 'bye' });
  assert.is((await r.read()).done, true, 'the readable ends after a clean close');
});

test('a close code from the server arrives in closed', async () => {
  const WSS = createNativeWebSocketStreamClass(() => hostPair(async (s) => { await s.opened; s.close({ closeCode: 4001, reason: 'go' }); }));
  const ws = new WSS('ws://example.test/');
  await ws.opened;
  assert.equal(await ws.closed, { closeCode: 4001, reason: 'go' });
});

test('a refused opening rejects opened and closed with a WebSocketError naming the URL', async () => {
  const refused = createWebSocketClass(() => Promise.reject(new Error('ECONNREFUSED'))) as unknown as HostWebSocketConstructor;
  const WSS = createNativeWebSocketStreamClass(() => refused);
  const ws = new WSS('ws://example.test/nowhere');
  const e = await ws.opened.then(() => null, (x: unknown) => x);
  assert.instance(e, WebSocketError);
  assert.match((e as Error).message, 'ws://example.test/nowhere');
  const c = await ws.closed.then(() => null, (x: unknown) => x);
  assert.instance(c, WebSocketError);
  assert.is((c as WebSocketError).closeCode, 1006);
});

test('an AbortSignal aborts the opening: opened rejects with its reason', async () => {
  const never = createWebSocketClass(() => new Promise(() => {})) as unknown as HostWebSocketConstructor;
  const WSS = createNativeWebSocketStreamClass(() => never);
  const ac = new AbortController();
  const ws = new WSS('ws://example.test/', { signal: ac.signal });
  const reason = new Error('changed my mind');
  ac.abort(reason);
  assert.is(await ws.opened.then(() => null, (x: unknown) => x), reason);
  const pre = new WSS('ws://example.test/', { signal: AbortSignal.abort(reason) });
  assert.is(await pre.opened.then(() => null, (x: unknown) => x), reason);
});

test('close() validates like WebSocket.close(): 1001 InvalidAccessError, long reason SyntaxError', async () => {
  const WSS = createNativeWebSocketStreamClass(() => hostPair(echo));
  const ws = new WSS('ws://example.test/');
  await ws.opened;
  assert.throws(() => ws.close({ closeCode: 1001 }), (e: DOMException) => e.name === 'InvalidAccessError');
  assert.throws(() => ws.close({ closeCode: 1000, reason: 'x'.repeat(124) }), (e: DOMException) => e.name === 'SyntaxError');
  ws.close();
  assert.is((await ws.closed).closeCode, 1005, 'no code: the peer saw none');
});

test('no host WebSocket class: a TypeError saying so', () => {
  const WSS = createNativeWebSocketStreamClass(() => undefined);
  assert.throws(() => new WSS('ws://example.test/'), /no WebSocket class/);
});

test.run();
