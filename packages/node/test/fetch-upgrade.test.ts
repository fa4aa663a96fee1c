/**
 * handleUpgrades(server, fetch): a node:http server's upgrades go through a fetch handler as WHATWG Requests; a
 * websocketRoute in it takes the socket over with our codec; any other Response is written back on the socket.
 * Peers: our client and ws.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { connect, handleUpgrades, websocketRoute, type WebSocketStream } from '../src/index.js';
import { within, rejection } from './helpers.js';

const load = createRequire(import.meta.url);
const WS = (load('ws') as typeof import('ws')).WebSocket;

let server: http.Server;
let base: string;
const engines: string[] = [];

const route = websocketRoute({ protocols: ['chat'] }, async (ws: WebSocketStream) => {
  engines.push(ws.engine);
  ws.subscribe('all');
  const { readable } = await ws.opened;
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) break;
    route.publish('all', value!);
  }
});

test.before(async () => {
  server = http.createServer((_req, res) => res.end('plain http'));
  handleUpgrades(server, async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/ws') return route.upgrade(request);
    if (url.pathname === '/throws') throw new Error('handler failed');
    if (url.pathname === '/nothing') return undefined;
    return new Response('no such route\n', { status: 404, headers: { 'x-why': 'unknown path' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

test.after(async () => {
  route.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('our client and ws join the route; publish reaches both (framed once, our codec on the socket)', async () => {
  const ours = connect(`${base}/ws`, { protocols: ['chat'] });
  const { readable, writable, protocol } = await within(ours.opened);
  assert.is(protocol, 'chat');
  const peer = new WS(`${base}/ws`, ['chat']);
  const got = new Promise<string>((resolve) => peer.once('message', (d) => resolve(String(d))));
  await new Promise((r) => peer.once('open', r));
  await new Promise((r) => setTimeout(r, 30));
  const w = writable.getWriter();
  await w.write('to everyone');
  assert.is(await within(got), 'to everyone');
  assert.is((await within(readable.getReader().read())).value, 'to everyone');
  assert.equal(engines, ['streamsocket', 'streamsocket']);
  assert.is(route.connections.size, 2);
  peer.close(1000);
  ours.close({ closeCode: 1000 });
  await within(ours.closed);
});

test('plain HTTP is untouched; other Responses are written on the socket; a throwing handler answers 500', async () => {
  assert.is(await (await fetch(`${base.replace('ws', 'http')}/`)).text(), 'plain http');
  const e404 = await rejection(connect(`${base}/elsewhere`).opened);
  assert.is((e404 as { status: number }).status, 404);
  assert.is((e404 as { body?: string }).body, 'no such route\n');
  assert.is(((await rejection(connect(`${base}/throws`).opened)) as { status: number }).status, 500);
  assert.is(((await rejection(connect(`${base}/nothing`).opened)) as { status: number }).status, 404);
  // The route's own policy: a subprotocol it does not speak is still accepted without one (RFC 6455), a bad
  // version is refused with 426 before the socket is touched.
  const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  raw.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n');
  const answer = await within(new Promise<string>((resolve) => {
    let s = '';
    raw.on('data', (d) => (s += d));
    raw.on('close', () => resolve(s));
  }));
  assert.match(answer, /^HTTP\/1\.1 426 /);
  assert.match(answer, /sec-websocket-version: 13/i);
});

test('maxConnectionsPerAddress counts the socket under each Request: a second session from 127.0.0.1 gets 429, 127.0.0.2 is served, a closed session frees its slot', async () => {
  const limited = websocketRoute({ maxConnectionsPerAddress: 1 }, async (ws: WebSocketStream, info) => {
    seen.push(info.clientAddress);
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  });
  const seen: string[] = [];
  const srv = http.createServer();
  handleUpgrades(srv, (request) => limited.upgrade(request));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(srv.address() as net.AddressInfo).port}/`;
  try {
    const first = connect(url);
    await within(first.opened);
    const refused = (await rejection(connect(url).opened)) as { status: number; headers?: Array<[string, string]> };
    assert.is(refused.status, 429);
    assert.is(limited.stats.refusedPerAddress, 1);
    const other = new WS(url, { localAddress: '127.0.0.2' });
    await within(new Promise((resolve, reject) => { other.once('open', resolve); other.once('error', reject); }), 5000, 'ws from 127.0.0.2');
    assert.equal(seen, ['127.0.0.1', '127.0.0.2']);
    first.close();
    await within(first.closed);
    await new Promise((r) => setTimeout(r, 20));
    const again = connect(url);
    await within(again.opened, 5000, 'served once the slot is free');
    again.close();
    other.close();
    await within(again.closed);
  } finally {
    limited.close();
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});

test.run();
