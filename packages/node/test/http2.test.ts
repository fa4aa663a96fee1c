/**
 * WebSockets over HTTP/2 (RFC 8441) on Node's http2, both roles: our client's WebSockets as streams of one HTTP/2
 * session against our server (and HTTP/1.1 Upgrade on the same port), refusals and negotiation carried over, a
 * server without extended CONNECT, and headless Chromium's own WebSocket against our server, proven to have used
 * HTTP/2 by what the server saw (an extended CONNECT stream, no HTTP/1.1 upgrade).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  connect, connectHttp2, serveHttp2, acceptHttp2, isWebSocketConnect, ExtendedConnectUnsupportedError, HandshakeError,
  type WebSocketStream, type Http2WebSocketServer,
} from '../src/index.js';
import { compatRemoved } from '../src/http2.js';
import { within, bytes, equalBytes, rejection } from './helpers.js';
import { makeCert, type TestCert } from './certs.js';
import { serve } from '../src/index.js';
import { startNghttpx } from '../../devtools/testkit/proxies.js';

let cert: TestCert;
let server: Http2WebSocketServer;
const seen: Array<{ http2: boolean; url: string; protocol: string; extensions: string }> = [];

async function echo(ws: WebSocketStream): Promise<void> {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable).catch(() => {});
}

test.before(async () => {
  cert = makeCert();
  server = serveHttp2(
    {
      tls: { cert: cert.cert, key: cert.key },
      protocols: ['chat', 'mqtt'],
      path: (p) => p.startsWith('/ws'),
      deflate: true,
      maxMessageSize: 4 * 1024 * 1024,
      request: (req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>h2</title><p>${req.httpVersion}</p>`);
      },
    },
    async (ws, info) => {
      const o = await ws.opened;
      seen.push({ http2: info.http2, url: ws.url, protocol: o.protocol, extensions: o.extensions });
      await echo(ws);
    },
  );
  await server.ready;
});
test.after(async () => {
  await within(server.close(), 10_000, 'server close');
});

async function roundTrip(ws: WebSocketStream, big = 1024 * 1024): Promise<void> {
  const { readable, writable } = await within(ws.opened, 5000, 'opened');
  const w = writable.getWriter();
  const r = readable.getReader();
  await w.write('héllo over h2 ✓');
  assert.is((await within(r.read(), 5000, 'text')).value, 'héllo over h2 ✓');
  const b = bytes(big, 7);
  await w.write(b);
  assert.ok(equalBytes((await within(r.read(), 10_000, 'binary')).value as Uint8Array, b), 'binary intact');
  w.releaseLock();
  r.releaseLock();
}

test('Node removed its compatibility hook on our server (else it would take WebSocket streams too)', () => {
  assert.is((server.server as unknown as { [k: symbol]: boolean })[compatRemoved], true);
});

test('three WebSockets as streams of ONE HTTP/2 session: echo, subprotocol, permessage-deflate, close codes', async () => {
  const session = http2.connect(`https://localhost:${server.port}`, { ca: cert.cert });
  const before = server.counts.http2;
  try {
    const a = connectHttp2(`wss://localhost:${server.port}/ws/a`, { session, protocols: ['chat'] });
    const b = connectHttp2(`wss://localhost:${server.port}/ws/b`, { session, protocols: ['mqtt'], deflate: true });
    const c = connectHttp2(`wss://localhost:${server.port}/ws/c`, { session });
    await Promise.all([roundTrip(a), roundTrip(b, 200_000), roundTrip(c, 3 * 1024 * 1024)]);
    assert.is((await a.opened).protocol, 'chat');
    assert.is((await b.opened).protocol, 'mqtt');
    assert.match((await b.opened).extensions, /^permessage-deflate/);
    assert.is((await c.opened).extensions, '');
    assert.is(server.counts.http2 - before, 3, 'the server saw three extended CONNECT streams');
    // All three on one TCP connection: the server has exactly one HTTP/2 session's socket from us.
    assert.is(session.socket ? 1 : 0, 1);
    const byPath = (p: string) => seen.find((s) => s.url.endsWith(p))!;
    assert.ok(byPath('/ws/a').http2 && byPath('/ws/b').http2 && byPath('/ws/c').http2);
    assert.match(byPath('/ws/a').url, /^wss:\/\/localhost:\d+\/ws\/a$/);
    a.close({ closeCode: 4001, reason: 'a done' });
    b.close({ closeCode: 1000 });
    c.close({ closeCode: 4002, reason: 'c done' });
    assert.equal(await within(a.closed, 5000, 'a closed'), { closeCode: 4001, reason: 'a done' });
    assert.equal(await within(b.closed, 5000, 'b closed'), { closeCode: 1000, reason: '' });
    assert.equal(await within(c.closed, 5000, 'c closed'), { closeCode: 4002, reason: 'c done' });
    // The session outlives its WebSockets and takes another one.
    const d = connectHttp2(`wss://localhost:${server.port}/ws/d`, { session });
    await roundTrip(d, 10);
    d.close();
    await within(d.closed, 5000, 'd closed');
  } finally {
    session.close();
  }
});

test('10,000 small messages in flight on one stream, and HTTP/2 flow control under a 16 MiB message', async () => {
  const session = http2.connect(`https://localhost:${server.port}`, { ca: cert.cert });
  try {
    const ws = connectHttp2(`wss://localhost:${server.port}/ws/many`, { session, maxMessageSize: 32 * 1024 * 1024 });
    const { readable, writable } = await within(ws.opened, 5000, 'opened');
    const w = writable.getWriter();
    const r = readable.getReader();
    const sent = Array.from({ length: 10_000 }, (_, i) => `m${i}`);
    const writes = sent.map((m) => w.write(m));
    for (const m of sent) assert.is((await within(r.read(), 10_000, 'many')).value, m);
    await Promise.all(writes);
    w.releaseLock();
    r.releaseLock();
    ws.close();
    await within(ws.closed, 5000, 'closed');
  } finally {
    session.close();
  }
});

test('backpressure: a server writing to a client that does not read stalls (HTTP/2 flow control), then resumes intact', async () => {
  const chunk = bytes(256 * 1024, 3);
  let written = 0;
  let stalled = false;
  const srv = serveHttp2({ tls: { cert: cert.cert, key: cert.key } }, async (ws) => {
    const { writable } = await ws.opened;
    const w = writable.getWriter();
    for (let i = 0; i < 160; i++) {
      // 40 MiB in all; the writer's ready stays pending once the stream's window and our buffers are full.
      const ready = await Promise.race([w.ready.then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]);
      if (!ready) {
        stalled = true;
        await w.ready;
      }
      void w.write(chunk);
      written += chunk.byteLength;
    }
    await w.close();
  });
  await srv.ready;
  const session = http2.connect(`https://localhost:${srv.port}`, { ca: cert.cert });
  try {
    const ws = connectHttp2(`wss://localhost:${srv.port}/bp`, { session, maxMessageSize: 1024 * 1024 });
    const { readable } = await within(ws.opened, 5000, 'opened');
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(stalled, 'the server writer waited');
    assert.ok(written < 16 * 1024 * 1024, `only ${written} bytes were accepted while the client did not read`);
    let got = 0;
    const r = readable.getReader();
    for (;;) {
      const { done, value } = await within(r.read(), 10_000, 'read');
      if (done) break;
      assert.ok(equalBytes(value as Uint8Array, chunk));
      got += (value as Uint8Array).byteLength;
    }
    assert.is(got, 160 * chunk.byteLength);
    await within(ws.closed, 5000, 'closed');
  } finally {
    session.close();
    await srv.close();
  }
});

test('serve()\'s ServerCore: a handler that throws closes with 1011 (onError told); close() sends 1001 (both versions)', async () => {
  const errors: unknown[] = [];
  const srv = serveHttp2({ tls: { cert: cert.cert, key: cert.key }, onError: (e) => errors.push(e) }, async (ws) => {
    if (ws.url.endsWith('/throw')) throw new Error('boom');
    await echo(ws);
  });
  await srv.ready;
  const session = http2.connect(`https://localhost:${srv.port}`, { ca: cert.cert });
  try {
    const bad = connectHttp2(`wss://localhost:${srv.port}/throw`, { session });
    await within(bad.opened, 5000, 'opened');
    assert.is((await within(bad.closed, 5000, 'bad closed')).closeCode, 1011);
    const h2 = connectHttp2(`wss://localhost:${srv.port}/stay`, { session });
    const h1 = connect(`wss://localhost:${srv.port}/stay1`, { ca: cert.cert });
    await Promise.all([roundTrip(h2, 10), roundTrip(h1, 10)]);
    await within(srv.close(), 8000, 'server close');
    assert.equal(await within(h2.closed, 5000, 'h2 closed'), { closeCode: 1001, reason: 'server shutting down' });
    assert.equal(await within(h1.closed, 5000, 'h1 closed'), { closeCode: 1001, reason: 'server shutting down' });
    assert.ok(errors.some((e) => String(e).includes('boom')), 'onError saw the handler failure');
    assert.is(srv.connections, 0);
  } finally {
    session.close();
    await srv.close();
  }
});

test('the admission policy applies over HTTP/2: maxConnectionsPerAddress 1 refuses a second WebSocket from 127.0.0.1', async () => {
  const srv = serveHttp2({ tls: { cert: cert.cert, key: cert.key }, maxConnectionsPerAddress: 1 }, (ws) => void echo(ws));
  await srv.ready;
  const session = http2.connect(`https://localhost:${srv.port}`, { ca: cert.cert });
  try {
    const first = connectHttp2(`wss://localhost:${srv.port}/1`, { session });
    await roundTrip(first, 10);
    const second = connectHttp2(`wss://localhost:${srv.port}/2`, { session });
    const e = (await rejection(second.opened)) as HandshakeError;
    assert.instance(e, HandshakeError);
    assert.is(e.status, 429);
    assert.is(srv.connections, 1);
    first.close();
    await within(first.closed, 5000, 'closed');
  } finally {
    session.close();
    await srv.close();
  }
});

test('the same port takes HTTP/1.1 Upgrade too (our HTTP/1.1 client, ALPN http/1.1)', async () => {
  const before = server.counts.http1;
  const ws = connect(`wss://localhost:${server.port}/ws/h1`, { ca: cert.cert, protocols: ['mqtt'] });
  await roundTrip(ws);
  assert.is((await ws.opened).protocol, 'mqtt');
  assert.is(server.counts.http1 - before, 1);
  ws.close();
  await within(ws.closed, 5000, 'closed');
});

test('ordinary HTTP/2 requests reach the request handler; a refusal keeps its status over HTTP/2', async () => {
  const session = http2.connect(`https://localhost:${server.port}`, { ca: cert.cert });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/' });
      let s = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (s += d));
      req.on('end', () => resolve(s));
      req.on('error', reject);
    });
    assert.match(body, /<p>2.0<\/p>/);
    const ws = connectHttp2(`wss://localhost:${server.port}/elsewhere`, { session });
    const e = (await rejection(ws.opened)) as HandshakeError;
    assert.instance(e, HandshakeError);
    assert.is(e.status, 404);
    const bad = connectHttp2(`wss://localhost:${server.port}/ws/p`, { session, protocols: ['nope'] });
    // No common subprotocol: the server accepts without one; the client, having offered only 'nope', takes that.
    assert.is((await within(bad.opened, 5000, 'opened')).protocol, '');
    bad.close();
  } finally {
    session.close();
  }
});

test('a server without SETTINGS_ENABLE_CONNECT_PROTOCOL: ExtendedConnectUnsupportedError, at once', async () => {
  const plain = http2.createSecureServer({ cert: cert.cert, key: cert.key });
  plain.on('stream', (s) => s.respond({ ':status': 500 }));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  const port = (plain.address() as { port: number }).port;
  const session = http2.connect(`https://localhost:${port}`, { ca: cert.cert });
  try {
    const started = Date.now();
    const ws = connectHttp2(`wss://localhost:${port}/`, { session });
    const e = await rejection(ws.opened);
    assert.instance(e, ExtendedConnectUnsupportedError);
    assert.ok(Date.now() - started < 3000, 'decided by a PING round trip, not a timeout');
  } finally {
    session.close();
    await new Promise<void>((r) => plain.close(() => r()));
  }
});

test('acceptHttp2 on a plain http2 server of the user\'s (h2c, cleartext)', async () => {
  const h2c = http2.createServer({ settings: { enableConnectProtocol: true } });
  h2c.on('stream', (stream, headers) => {
    if (isWebSocketConnect(headers)) void echo(acceptHttp2(stream, headers));
    else stream.respond({ ':status': 404 });
  });
  await new Promise<void>((r) => h2c.listen(0, '127.0.0.1', () => r()));
  const port = (h2c.address() as { port: number }).port;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const ws = connectHttp2(`ws://127.0.0.1:${port}/x`, { session });
    await roundTrip(ws);
    assert.match(ws.url, /^ws:\/\/127\.0\.0\.1:\d+\/x$/);
    ws.close();
    await within(ws.closed, 5000, 'closed');
  } finally {
    session.close();
    await new Promise<void>((r) => h2c.close(() => r()));
  }
});

test('our HTTP/2 client against an independent RFC 8441 server: nghttpx (nghttp2) in front of an HTTP/1.1 backend', async () => {
  const backend = serve({ hostname: '127.0.0.1', port: 0, protocols: ['chat'] }, (ws) => void echo(ws));
  await backend.ready;
  const ng = await startNghttpx(backend.port, { cert: cert.cert, key: cert.key });
  const session = http2.connect(`https://localhost:${ng.port}`, { ca: cert.cert });
  try {
    const a = connectHttp2(`wss://localhost:${ng.port}/one`, { session, protocols: ['chat'] });
    const b = connectHttp2(`wss://localhost:${ng.port}/two`, { session });
    await Promise.all([roundTrip(a), roundTrip(b, 2 * 1024 * 1024)]);
    assert.is((await a.opened).protocol, 'chat');
    assert.is(session.remoteSettings.enableConnectProtocol, true, 'nghttpx advertised RFC 8441');
    a.close({ closeCode: 4000, reason: 'via nghttpx' });
    assert.equal(await within(a.closed, 5000, 'a closed'), { closeCode: 4000, reason: 'via nghttpx' });
    b.close();
    await within(b.closed, 5000, 'b closed');
    // nghttpx logs each request with the protocol it came in on: two extended CONNECTs over HTTP/2.
    for (let i = 0; i < 40 && (ng.log().match(/"CONNECT [^"]* HTTP\/2"/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.is((ng.log().match(/"CONNECT [^"]* HTTP\/2"/g) ?? []).length, 2, ng.log());
  } finally {
    session.close();
    await ng.stop();
    await backend.close();
  }
});

// ------------------------------------------------------------------------------------------------ Chromium

function findRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(d, 'packages', 'devtools', 'browser.mjs'))) return d;
    const up = dirname(d);
    if (up === d) throw new Error('workspace root not found');
    d = up;
  }
}

interface Page {
  goto(url: string): Promise<unknown>;
  evaluate<T>(expression: string): Promise<T>;
}
interface Browser {
  newPage(o?: { ignoreHTTPSErrors?: boolean }): Promise<Page>;
  close(): Promise<void>;
}

test("Chromium's WebSocket over wss: uses RFC 8441 against our server when the page came over HTTP/2", async () => {
  const root = findRoot();
  const pwDir = join(root, '.tools', 'node_modules', 'playwright-core');
  if (!existsSync(join(pwDir, 'package.json')) || !existsSync('/usr/bin/chromium')) {
    throw new Error('playwright-core or Chromium missing: the test runner installs both (packages/devtools/runtimes.mjs)');
  }
  const { chromiumArgs } = (await import(pathToFileURL(join(root, 'packages', 'devtools', 'browser.mjs')).href)) as { chromiumArgs: string[] };
  const { chromium } = createRequire(join(root, '.tools', 'package.json'))('playwright-core') as {
    chromium: { launch(o: { executablePath: string; headless: boolean; args: string[]; timeout: number }): Promise<Browser> };
  };
  const browser = await within(chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs, timeout: 20_000 }), 25_000, 'launch');
  try {
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const h2Before = server.counts.http2;
    const h1Before = server.counts.http1;
    await within(page.goto(`https://localhost:${server.port}/`), 10_000, 'page');
    const result = await within(
      page.evaluate<{ version: string; echoes: string[]; protocol: string; extensions: string; code: number; reason: string }>(`(async () => {
        const version = document.querySelector('p').textContent;
        const ws = new WebSocket('wss://localhost:${server.port}/ws/chromium', ['chat']);
        ws.binaryType = 'arraybuffer';
        await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('ws error')); });
        const echoes = [];
        const next = () => new Promise((res) => { ws.onmessage = (e) => res(e.data); });
        for (const m of ['one', 'twö ✓', 'x'.repeat(100000)]) { ws.send(m); const d = await next(); echoes.push(typeof d === 'string' ? d.slice(0, 20) + ':' + d.length : 'bin'); }
        const bin = new Uint8Array(300000).map((_, i) => i & 255); ws.send(bin);
        const back = new Uint8Array(await next()); echoes.push('bin:' + back.length + ':' + back.every((b, i) => b === (i & 255)));
        const closed = new Promise((res) => { ws.onclose = (e) => res(e); });
        ws.close(4321, 'bye');
        const e = await closed;
        return { version, echoes, protocol: ws.protocol, extensions: ws.extensions, code: e.code, reason: e.reason };
      })()`),
      20_000,
      'page script',
    );
    assert.is(result.version, '2.0', 'the page itself came over HTTP/2');
    assert.equal(result.echoes, ['one:3', 'twö ✓:5', 'xxxxxxxxxxxxxxxxxxxx:100000', 'bin:300000:true']);
    assert.is(result.protocol, 'chat');
    assert.match(result.extensions, /^permessage-deflate/);
    assert.is(result.code, 4321);
    assert.is(result.reason, 'bye');
    // The proof: our server took this WebSocket as an extended CONNECT stream, and no HTTP/1.1 upgrade happened.
    assert.is(server.counts.http2 - h2Before, 1, 'one extended CONNECT stream');
    assert.is(server.counts.http1 - h1Before, 0, 'no HTTP/1.1 upgrade');
    assert.ok(seen.some((s) => s.http2 && s.url.endsWith('/ws/chromium')));
  } finally {
    await browser.close();
  }
});

test.run();
