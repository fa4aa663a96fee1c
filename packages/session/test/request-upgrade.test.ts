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

test('maxConnectionsPerAddress: a third session from one address gets 429 with Retry-After; a slot frees when a session closes; other addresses and unknown ones are not held back', async () => {
  const errors: unknown[] = [];
  const addresses: string[] = [];
  const route = websocketRoute({ maxConnectionsPerAddress: 2, onError: (e) => void errors.push(e) }, async (ws, info) => {
    addresses.push(info.clientAddress);
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  });
  const from = (address: string | undefined) => (address === undefined ? {} : { socket: { remoteAddress: address } });
  const open = async (address: string | undefined) => {
    const req = upgradeRequest();
    const offered = offerPipe(req);
    const res = await route.upgrade(req, from(address));
    if (res.status !== 200) return { res, client: null };
    const client = offered.client();
    await within(client.opened);
    return { res, client };
  };
  const a1 = await open('10.0.0.1');
  const a2 = await open('10.0.0.1');
  const a3 = await open('10.0.0.1');
  assert.is(a3.res.status, 429);
  assert.is(a3.res.headers.get('retry-after'), '1');
  assert.match(await a3.res.text(), /10\.0\.0\.1 holds maxConnectionsPerAddress sessions/);
  assert.is((errors[0] as { status?: number }).status, 429);
  assert.is(route.stats.refusedPerAddress, 1);
  const b = await open('10.0.0.2');
  const unknown = [await open(undefined), await open(undefined), await open(undefined)];
  assert.ok(b.client && unknown.every((u) => u.client), 'another address and unknown addresses are served');
  assert.equal(addresses.slice(0, 3), ['10.0.0.1', '10.0.0.1', '10.0.0.2']);
  a1.client!.close();
  await within(a1.client!.closed);
  await sleep(10);
  const a4 = await open('10.0.0.1');
  assert.ok(a4.client, 'the slot a closed session held is free again');
  for (const c of [a2, b, a4, ...unknown]) c.client!.close();
});

test('trustedProxies: the client a trusted proxy names is what maxConnectionsPerAddress counts; an untrusted peer\'s header is ignored', async () => {
  const route = websocketRoute({ maxConnectionsPerAddress: 1, trustedProxies: ['10.1.0.0/16'] }, async (ws) => {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  });
  const open = async (peer: string, forwardedFor: string) => {
    const req = upgradeRequest('/ws', { 'x-forwarded-for': forwardedFor });
    const offered = offerPipe(req);
    const res = await route.upgrade(req, { socket: { remoteAddress: peer } });
    if (res.status === 200) await within(offered.client().opened);
    return { status: res.status, client: res.status === 200 ? offered.client() : null };
  };
  const viaProxy = [await open('10.1.0.5', '198.51.100.1'), await open('10.1.0.5', '198.51.100.2'), await open('10.1.0.6', '198.51.100.1')];
  assert.equal(viaProxy.map((x) => x.status), [200, 200, 429], 'counted per forwarded client, not per proxy');
  const direct = [await open('203.0.113.9', '198.51.100.3'), await open('203.0.113.9', '198.51.100.4')];
  assert.equal(direct.map((x) => x.status), [200, 429], 'an untrusted peer is counted under its own address');
  for (const x of [...viaProxy, ...direct]) x.client?.close();
});

test('a session that belongs to no route or server cannot subscribe', () => {
  const [, s] = createPipePair();
  const ws = accept(s);
  assert.throws(() => ws.subscribe('x'), /no server with topics/);
  ws.close();
});

test.run();
