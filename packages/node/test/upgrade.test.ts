/** upgrade() on an existing http.Server: head bytes preserved, plain HTTP unaffected, refusals on the raw socket. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { buildClientRequest, HeadReader } from '@streamsocket/handshake';
import { upgrade, connect, HandshakeError, type WebSocketStream } from '../src/index.js';
import { within, rejection, echo } from './helpers.js';

const load = createRequire(import.meta.url);
const WS = (load('ws') as typeof import('ws')).WebSocket;

let server: http.Server;
let port: number;
const sessions: WebSocketStream[] = [];

test.before(async () => {
  server = http.createServer((_req, res) => res.end('plain http'));
  server.on('upgrade', (req, socket, head) => {
    const ws = upgrade(req, socket, head, {
      path: '/ws',
      protocols: ['chat'],
      origins: (o) => o !== 'https://evil.example',
      onRequest: (r) => (r.headers.get('authorization') === 'Bearer no' ? { status: 401, body: 'no entry' } : undefined),
    });
    sessions.push(ws);
    void echo(ws);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
test.after(async () => {
  for (const s of sessions) s.close();
  server.closeAllConnections();
  await within(new Promise((r) => server.close(r)), 5000, 'http close');
});

/** A masked client text frame (payload < 126 bytes). */
function clientTextFrame(text: string): Uint8Array {
  const p = new TextEncoder().encode(text);
  const mask = [0x12, 0x34, 0x56, 0x78];
  const f = new Uint8Array(6 + p.length);
  f[0] = 0x81;
  f[1] = 0x80 | p.length;
  f.set(mask, 2);
  for (let i = 0; i < p.length; i++) f[6 + i] = p[i]! ^ mask[i % 4]!;
  return f;
}

test('the first frame sent in the same TCP write as the request head is not lost', async () => {
  const req = buildClientRequest(`ws://127.0.0.1:${port}/ws`, { protocols: ['chat'] });
  const frame = clientTextFrame('early bird ✓');
  const sock = net.connect(port, '127.0.0.1');
  await within(new Promise((r) => sock.once('connect', r)));
  const all = new Uint8Array(req.bytes.length + frame.length);
  all.set(req.bytes);
  all.set(frame, req.bytes.length);
  sock.write(all); // one write: head + frame
  const reader = new HeadReader('response');
  const got = await within(new Promise<{ status: number; accept: string | undefined; protocol: string | undefined; text: string }>((resolve, reject) => {
    let head: ReturnType<HeadReader<'response'>['push']> = null;
    let rest: Uint8Array = new Uint8Array(0);
    sock.on('data', (d: Buffer) => {
      if (!head) {
        head = reader.push(new Uint8Array(d));
        if (!head) return;
        rest = head.rest;
      } else {
        const n = new Uint8Array(rest.length + d.length);
        n.set(rest);
        n.set(d, rest.length);
        rest = n;
      }
      if (rest.length >= 2 && rest.length >= 2 + (rest[1]! & 0x7f)) {
        if (rest[0] !== 0x81 || (rest[1]! & 0x80) !== 0) return reject(new Error('unexpected frame header'));
        resolve({
          status: head.head.status,
          accept: head.head.headers.get('sec-websocket-accept'),
          protocol: head.head.headers.get('sec-websocket-protocol'),
          text: new TextDecoder().decode(rest.subarray(2, 2 + rest[1]!)),
        });
      }
    });
    sock.once('error', reject);
  }));
  assert.is(got.status, 101);
  assert.is(got.accept, req.expectedAccept);
  assert.is(got.protocol, 'chat');
  assert.is(got.text, 'early bird ✓');
  sock.destroy();
});

test('plain HTTP on the same server still works', async () => {
  const body = await within(new Promise<string>((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/`, (res) => {
      let s = '';
      res.on('data', (d) => (s += d));
      res.on('end', () => resolve(s));
    }).on('error', reject);
  }));
  assert.is(body, 'plain http');
});

test('our client and the ws client through upgrade()', async () => {
  const ws = connect(`ws://127.0.0.1:${port}/ws?x=1`, { protocols: ['chat'] });
  const { readable, writable } = await within(ws.opened);
  const w = writable.getWriter();
  await w.write('via upgrade');
  assert.is((await within(readable.getReader().read())).value, 'via upgrade');
  ws.close({ closeCode: 1000 });
  await within(ws.closed);

  const c = new WS(`ws://127.0.0.1:${port}/ws`);
  const m = await within(new Promise<string>((resolve, reject) => {
    c.once('open', () => c.send('ws via upgrade'));
    c.once('message', (d) => resolve(d.toString()));
    c.once('error', reject);
  }));
  assert.is(m, 'ws via upgrade');
  c.close();
});

function wsRefusal(url: string, opts: ConstructorParameters<typeof WS>[2] = {}): Promise<number> {
  return within(new Promise<number>((resolve, reject) => {
    const c = new WS(url, opts);
    c.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      c.terminate();
    });
    c.once('open', () => reject(new Error('opened')));
    c.once('error', () => {});
  }));
}

test('refusals answered on the raw socket: 404 path, 403 origin, 426 version, 401 hook', async () => {
  const base = `ws://127.0.0.1:${port}`;
  assert.is(await wsRefusal(`${base}/elsewhere`), 404);
  assert.is(await wsRefusal(`${base}/ws`, { origin: 'https://evil.example' }), 403);
  assert.is(await wsRefusal(`${base}/ws`, { protocolVersion: 8 }), 426);
  assert.is(await wsRefusal(`${base}/ws`, { headers: { Authorization: 'Bearer no' } }), 401);

  const e1 = (await rejection(connect(`${base}/ws`, { origin: 'https://evil.example' }).opened)) as HandshakeError;
  assert.instance(e1, HandshakeError);
  assert.is(e1.status, 403);
  const e2 = (await rejection(connect(`${base}/ws`, { headers: { Authorization: 'Bearer no' } }).opened)) as HandshakeError;
  assert.is(e2.status, 401);
});

test('the re-serialised head goes through the handshake checks: a duplicate Host (Node lets it through) is 400', async () => {
  const sock = net.connect(port, '127.0.0.1');
  await within(new Promise((r) => sock.once('connect', r)));
  const req = buildClientRequest(`ws://127.0.0.1:${port}/ws`);
  const text = new TextDecoder().decode(req.bytes).replace('\r\n\r\n', '\r\nHost: other.example\r\n\r\n');
  sock.write(text);
  const res = await within(new Promise<string>((resolve) => {
    let s = '';
    sock.on('data', (d) => (s += d.toString('latin1')));
    sock.on('close', () => resolve(s));
    sock.on('error', () => resolve(s));
  }));
  assert.match(res, /^HTTP\/1\.1 400 /);
});

test.run();
