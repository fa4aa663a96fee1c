/**
 * Header injection (issue 9): CR, LF or NUL in user-given header values and names, subprotocol names, origins and
 * URLs is refused before anything is written (client: a synchronous throw and no TCP connection at all; server: a
 * 500 instead of a response carrying the injected line). Close reasons are frame payload with a length prefix, not
 * HTTP: RFC 6455 7.1.6 and WHATWG allow any UTF-8 there, so CR/LF/NUL travel byte-exact and cannot inject; the
 * 123-byte limit is what is refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { serve, connect, WebSocket, type WebSocketStream } from '@streamsocket/node';
import { parseRequestHead } from '@streamsocket/handshake';
import { RawPeer, sleep, within, cleanup, tracked, escaped } from './_net.js';

/** A raw TCP server recording every connection and the request head bytes it got. */
async function recorder(): Promise<{ port: number; connections: () => number; heads: string[]; close(): Promise<void> }> {
  let n = 0;
  const heads: string[] = [];
  const socks = new Set<net.Socket>();
  const s = net.createServer((c) => {
    n++;
    socks.add(c);
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) heads.push(buf.slice(0, buf.indexOf('\r\n\r\n') + 4));
    });
    c.on('error', () => {});
    c.on('close', () => socks.delete(c));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  return {
    port, heads, connections: () => n,
    close: () => new Promise<void>((r) => {
      for (const c of socks) c.destroy();
      s.close(() => r());
    }),
  };
}

const BAD = ['a\r\nInjected: 1', 'a\nInjected: 1', 'a\rb', 'a\u0000b'];

test('client: CR/LF/NUL in header values, header names, origin, subprotocols: thrown synchronously, nothing dialed', async () => {
  const rec = tracked(await recorder());
  const url = `ws://127.0.0.1:${rec.port}/`;
  const attempts: Array<[string, () => unknown]> = [];
  for (const b of BAD) {
    attempts.push([`header value ${JSON.stringify(b)}`, () => connect(url, { headers: { 'X-A': b } })]);
    attempts.push([`header value (pairs) ${JSON.stringify(b)}`, () => connect(url, { headers: [['X-A', b]] })]);
    attempts.push([`header name ${JSON.stringify(b)}`, () => connect(url, { headers: { [b]: 'v' } })]);
    attempts.push([`origin ${JSON.stringify(b)}`, () => connect(url, { origin: `https://x${b}` })]);
    attempts.push([`subprotocol ${JSON.stringify(b)}`, () => connect(url, { protocols: [b] })]);
    attempts.push([`WebSocket class subprotocol ${JSON.stringify(b)}`, () => new WebSocket(url, [b])]);
  }
  const outcomes: string[] = [];
  for (const [what, f] of attempts) {
    let thrown: unknown;
    try {
      const ws = f() as WebSocketStream;
      (ws as { close?: () => void }).close?.();
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof Error || thrown instanceof DOMException, `${what} must throw synchronously`);
    outcomes.push((thrown as Error).name);
  }
  await sleep(200);
  console.log(`[injection client] ${attempts.length} hostile options all thrown synchronously (${[...new Set(outcomes)].join(', ')}); TCP connections made: ${rec.connections()}`);
  assert.is(rec.connections(), 0, 'nothing was dialed');
});

test('client: CR/LF/NUL/space in URLs never reach the wire raw (URL parsing strips or percent-encodes them, or throws)', async () => {
  const rec = tracked(await recorder());
  const urls = [
    `ws://127.0.0.1:${rec.port}/a\r\nInjected: 1`,
    `ws://127.0.0.1:${rec.port}/a\u0000b`,
    `ws://127.0.0.1:${rec.port}/a b HTTP/1.1\r\nX: y`,
    `ws://127.0.0.1:${rec.port}/?q=\r\n\r\nGET / HTTP/1.1`,
    `ws://127.0.0.1\r\n:${rec.port}/`,
    `ws://127.0.0.1:${rec.port}/#frag\r\n`,
  ];
  let thrown = 0;
  const opened: WebSocketStream[] = [];
  for (const u of urls) {
    try {
      opened.push(connect(u, { connectTimeout: 1500 }));
    } catch {
      thrown++;
    }
  }
  await within((async () => {
    while (rec.heads.length < opened.length) await sleep(10);
  })(), 3000, 'heads').catch(() => {});
  for (const ws of opened) ws.close();
  for (const h of rec.heads) {
    const head = parseRequestHead(new Uint8Array(Buffer.from(h, 'latin1'))); // strict: throws on any smuggled line
    const names = head.headers.entries().map(([n]) => n.toLowerCase()).sort();
    assert.equal(names, ['connection', 'host', 'sec-websocket-key', 'sec-websocket-version', 'upgrade'], `only our headers in ${JSON.stringify(h)}`);
    assert.ok(!/[\s\u0000]/.test(head.target), `target ${JSON.stringify(head.target)}`);
  }
  console.log(`[injection url] ${urls.length} hostile URLs: ${thrown} thrown, ${rec.heads.length} sent as one clean request line each (targets: ${rec.heads.map((h) => h.split(' ')[1]).join(' ')})`);
});

test('server: CR/LF/NUL in 101 headers, hook headers, refusal headers and reason phrases: 500, nothing injected', async () => {
  const cases: Array<[string, Record<string, unknown>]> = [];
  for (const b of BAD) {
    cases.push([`headers option ${JSON.stringify(b)}`, { headers: { 'X-A': b } }]);
    cases.push([`hook accept headers ${JSON.stringify(b)}`, { onRequest: () => ({ headers: [['Set-Cookie', b]] }) }]);
    cases.push([`hook refusal headers ${JSON.stringify(b)}`, { onRequest: () => ({ status: 401, headers: { 'WWW-Authenticate': b } }) }]);
    cases.push([`hook refusal reason ${JSON.stringify(b)}`, { onRequest: () => ({ status: 401, reason: b }) }]);
    cases.push([`protocol selector ${JSON.stringify(b)}`, { protocols: () => b }]);
  }
  const statuses: number[] = [];
  for (const [what, opts] of cases) {
    const server = tracked(serve({ hostname: '127.0.0.1', port: 0, ...opts }, () => {}));
    await server.ready;
    const p = new RawPeer(server.port);
    await p.ready();
    p.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n`);
    const r = await p.responseHead(3000);
    statuses.push(r.status);
    assert.ok(!/injected/i.test(r.head) && !/\u0000/.test(r.head), `${what}: injected text in ${JSON.stringify(r.head)}`);
    assert.is(r.status, 500, `${what}: status`);
    p.destroy();
    await server.close();
  }
  console.log(`[injection server] ${cases.length} hostile server-side values: all answered ${[...new Set(statuses)].join(',')}, nothing injected`);
});

test('close reasons: CR/LF/NUL are frame payload, delivered byte-exact; over 123 bytes refused before sending', async () => {
  let got: { closeCode: number; reason: string } | undefined;
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0 }, async (ws: WebSocketStream) => {
    got = await ws.closed.catch(() => undefined);
  }));
  await server.ready;
  const ws = connect(`ws://127.0.0.1:${server.port}/`);
  await within(ws.opened, 3000, 'opened');
  assert.throws(() => ws.close({ closeCode: 1000, reason: 'x'.repeat(124) }), (e: Error) => e.name === 'SyntaxError');
  const reason = 'a\r\nInjected: 1\u0000';
  ws.close({ closeCode: 4000, reason });
  await within(ws.closed, 3000, 'closed');
  await within((async () => { while (!got) await sleep(5); })(), 3000, 'server closed');
  assert.equal(got, { closeCode: 4000, reason });
});

test.after.each(cleanup);

test('nothing escaped', () => {
  assert.equal(escaped.map(String), []);
});

test.run();
