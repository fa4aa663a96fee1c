// websocketRoute: the fetch-style upgrade. The codec path runs here over in-memory pipes (a host offers the
// socket under the Request, as @streamsocket/node's handleUpgrades does); refusals are the same on every path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair, offerSocket, websocketRoute, type RouteOptions, type WebSocketStream } from '../src/index.js';
import { settle, sleep, within } from './helpers.js';

/**
 * An upgrade Request as a server host hands it over. Built from a standalone Headers object: a browser's Request
 * constructor drops Upgrade, Connection and Sec-* (forbidden request headers), which server hosts keep.
 */
function upgradeRequest(path = '/ws', headers: Record<string, string> = {}): Request {
  const h = new Headers({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', ...headers });
  return { url: `http://example.com${path}`, method: 'GET', headers: h } as unknown as Request;
}

/** Offers a pipe under `request` (what handleUpgrades does with a socket) and dials it with our client. */
function offerPipe(request: Request, protocols: string[] = []) {
  const [c, s] = createPipePair();
  const path = new URL(request.url).pathname;
  let client: WebSocketStream | null = null;
  offerSocket(request, (o) => {
    client = connect(c, `ws://example.com${path}`, { protocols });
    return accept(s, o);
  });
  return { client: () => client! };
}

test('the codec path: the offered socket is taken over, the handler gets the session and the Request', async () => {
  let seen: { engine: string; url: string; target: string | undefined } | null = null;
  const route = websocketRoute({ protocols: ['chat'] }, async (ws, info) => {
    seen = { engine: ws.engine, url: info.request.url, target: ws.request?.target };
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  });
  const req = upgradeRequest('/ws', { 'sec-websocket-protocol': 'chat' });
  const offered = offerPipe(req, ['chat']);
  const res = await route.upgrade(req);
  assert.is(res.headers.get('x-streamsocket'), 'upgraded');
  const client = offered.client();
  const { readable, writable, protocol } = await within(client.opened);
  assert.is(protocol, 'chat');
  const w = writable.getWriter();
  await w.write('ping');
  assert.is((await readable.getReader().read()).value, 'ping');
  assert.equal(seen, { engine: 'streamsocket', url: 'http://example.com/ws', target: '/ws' });
  assert.is(route.connections.size, 1);
  client.close({ closeCode: 1000 });
  await within(client.closed);
  await sleep(10);
  assert.is(route.connections.size, 0);
});

async function status(options: RouteOptions, req: Request): Promise<[number, string]> {
  const errors: unknown[] = [];
  const route = websocketRoute({ ...options, onError: (e) => void errors.push(e) }, () => {});
  const res = await route.upgrade(req);
  return [res.status, await res.text()];
}

test('refusals are answered as Responses, before any platform is involved', async () => {
  const plain = new Request('http://example.com/ws');
  assert.is((await status({}, plain))[0], 426, 'not an upgrade');
  assert.is((await status({ path: '/other' }, upgradeRequest()))[0], 404);
  assert.is((await status({ origins: ['https://good.example'] }, upgradeRequest('/ws', { origin: 'https://evil.example' })))[0], 403);
  assert.is((await status({}, upgradeRequest('/ws', { 'sec-websocket-version': '8' })))[0], 426);
  const [s, body] = await status({ onRequest: () => ({ status: 401, body: 'login first' }) }, upgradeRequest());
  assert.equal([s, body], [401, 'login first']);
  assert.is((await status({ onRequest: async () => ({ status: 429, headers: { 'retry-after': '5' } }) }, upgradeRequest()))[0], 429);
  assert.is((await status({ onRequest: () => { throw new Error('boom'); } }, upgradeRequest()))[0], 500);
});

test('onRequest headers reach the 101; a handler that throws closes with 1011 and is reported', async () => {
  const errors: unknown[] = [];
  const route = websocketRoute({ onRequest: () => ({ headers: { 'x-hello': 'there' } }), onError: (e) => void errors.push(e) }, () => {
    throw new Error('handler failed');
  });
  const req = upgradeRequest();
  const offered = offerPipe(req);
  await route.upgrade(req);
  const client = offered.client();
  await within(client.opened);
  assert.is(client.response?.headers.get('x-hello'), 'there');
  const r = await settle(client.closed);
  assert.equal(r.ok ? r.value : r.error, { closeCode: 1011, reason: 'internal error' });
  assert.is((errors[0] as Error).message, 'handler failed');
});

test('close(): 1001 to every open session, then 503 for new upgrades', async () => {
  const route = websocketRoute(async (ws) => {
    await ws.opened;
  });
  const req = upgradeRequest();
  const offered = offerPipe(req);
  await route.upgrade(req);
  const client = offered.client();
  await within(client.opened);
  await sleep(10);
  route.close('maintenance');
  assert.equal(await within(client.closed), { closeCode: 1001, reason: 'maintenance' });
  assert.is((await route.upgrade(upgradeRequest())).status, 503);
});

test('webSocket: true hands a WHATWG WebSocket with engine, subscribe and unsubscribe', async () => {
  let seen = '';
  const route = websocketRoute({ webSocket: true }, (ws) => {
    seen = ws.engine;
    ws.subscribe('t');
    ws.onmessage = () => ws.unsubscribe('t');
  });
  const req = upgradeRequest();
  const offered = offerPipe(req);
  await route.upgrade(req);
  const client = offered.client();
  const { readable, writable } = await within(client.opened);
  await sleep(20);
  assert.is(seen, 'streamsocket');
  assert.is(route.publish('t', 'published'), 1);
  assert.is((await within(readable.getReader().read())).value, 'published');
  await writable.getWriter().write('stop');
  await sleep(20);
  assert.is(route.topics.subscriberCount('t'), 0);
  client.close();
});

test('a session that belongs to no route or server cannot subscribe', () => {
  const [, s] = createPipePair();
  const ws = accept(s);
  assert.throws(() => ws.subscribe('x'), /no server with topics/);
  ws.close();
});

test.run();
