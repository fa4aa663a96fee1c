// The runtime entries of `streamsocket`: one set of names everywhere, the Node entry working end to end
// (serve, connect, WebSocket, new WebSocketStream(url, { protocols, signal })), and features a runtime cannot have
// throwing an UnsupportedFeatureError that names the runtime and the feature. (The packed package, resolved by
// its export conditions in Node, Deno, Bun, workerd and Chromium, is the consumer suite's subject.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as nodeEntry from '../src/index.js';
import * as denoEntry from '../src/deno.js';
import * as bunEntry from '../src/bun.js';
import * as browserEntry from '../src/browser.js';
import { WebSocketStream as SessionWebSocketStream } from '@streamsocket/session';
import { makeCert } from '../../node/test/certs.js';

const common = ['serve', 'connect', 'upgrade', 'WebSocket', 'WebSocketStream', 'WebSocketError', 'CloseEvent', 'MessageEvent', 'HandshakeError', 'UnsupportedFeatureError', 'runtime'];

test('every entry exports the same core names', () => {
  for (const [name, m] of Object.entries({ node: nodeEntry, deno: denoEntry, bun: bunEntry, browser: browserEntry })) {
    for (const k of common) assert.ok(k in m, `${name} entry exports ${k}`);
    assert.is(m.runtime, name);
  }
});

test('node: serve, connect, text and binary echo, close 1000', async () => {
  const server = nodeEntry.serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  });
  await server.ready;
  try {
    const ws = nodeEntry.connect(`${server.url}/`);
    const { readable, writable } = await ws.opened;
    const w = writable.getWriter();
    const r = readable.getReader();
    await w.write('text');
    await w.write(new Uint8Array([7, 8]));
    assert.is((await r.read()).value, 'text');
    assert.equal([...((await r.read()).value as Uint8Array)], [7, 8]);
    ws.close({ closeCode: 1000 });
    assert.equal(await ws.closed, { closeCode: 1000, reason: '' });
  } finally {
    await server.close();
  }
});

test('node: new WebSocketStream(url, { protocols, signal }) dials; instanceof the session class', async () => {
  const server = nodeEntry.serve({ hostname: '127.0.0.1', port: 0, protocols: ['b'] }, async (ws) => {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  });
  await server.ready;
  try {
    const ws = new nodeEntry.WebSocketStream(`${server.url}/`, { protocols: ['a', 'b'] });
    assert.ok(ws instanceof nodeEntry.WebSocketStream);
    assert.ok(ws instanceof SessionWebSocketStream);
    const { protocol, writable, readable } = await ws.opened;
    assert.is(protocol, 'b');
    await writable.getWriter().write('x');
    assert.is((await readable.getReader().read()).value, 'x');
    ws.close({ closeCode: 1000, reason: 'done' });
    assert.equal(await ws.closed, { closeCode: 1000, reason: 'done' });
    const reason = new Error('stop');
    const aborted = new nodeEntry.WebSocketStream(`${server.url}/`, { signal: AbortSignal.abort(reason) });
    assert.is(await aborted.opened.then(() => null, (e: unknown) => e), reason);
  } finally {
    await server.close();
  }
});

test('node: a refused TCP connection: the socket error (code ECONNREFUSED) from opened, closed and the error event', async () => {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r)); // nothing listens there now
  const url = `ws://127.0.0.1:${port}/`;
  const ws = nodeEntry.connect(url);
  const e = await ws.opened.then(() => null, (x: unknown) => x);
  assert.is((e as { code?: string }).code, 'ECONNREFUSED');
  const closed = await ws.closed.then(() => null, (x: unknown) => x);
  assert.instance(closed, nodeEntry.WebSocketError);
  assert.is(((closed as Error).cause as { code?: string }).code, 'ECONNREFUSED');
  const sock = new nodeEntry.WebSocket(url);
  const ev = await new Promise<{ error?: unknown; message?: string }>((resolve) => { sock.onerror = (x) => resolve(x); });
  assert.is((ev.error as { code?: string }).code, 'ECONNREFUSED');
  assert.match(ev.message ?? '', 'ECONNREFUSED');
});

test('node: an untrusted certificate: TlsConnectError (the TLS reason as its cause) from opened, closed and the error event', async () => {
  const { cert, key } = makeCert(); // self-signed: not in Node's CA store
  const tls = { cert, key };
  const server = nodeEntry.serve({ hostname: '127.0.0.1', port: 0, tls }, async (ws) => { await ws.opened.catch(() => {}); });
  await server.ready;
  try {
    const url = `wss://127.0.0.1:${server.port}/`;
    const ws = nodeEntry.connect(url);
    const e = await ws.opened.then(() => null, (x: unknown) => x);
    assert.instance(e, nodeEntry.TlsConnectError);
    assert.match((e as Error).message, `127.0.0.1:${server.port}`);
    assert.ok(((e as Error).cause as { code?: string }).code, 'the TLS error itself, with its code, is the cause');
    const closed = await ws.closed.then(() => null, (x: unknown) => x);
    assert.is((closed as Error).cause, e);
    const sock = new nodeEntry.WebSocket(url);
    const ev = await new Promise<{ error?: unknown }>((resolve) => { sock.onerror = (x) => resolve(x); });
    assert.instance(ev.error, nodeEntry.TlsConnectError);
  } finally {
    await server.close();
  }
});

test('the runtime-free class explains itself when called like the WHATWG constructor', () => {
  const Ctor = SessionWebSocketStream as unknown as new (url: string) => unknown;
  assert.throws(() => new Ctor('ws://127.0.0.1:1/'), /cannot dial: import WebSocketStream from 'streamsocket'/);
});

test('features a runtime cannot have throw UnsupportedFeatureError naming runtime and feature', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['deno', () => denoEntry.upgrade({}, {}, new Uint8Array()), /upgrade\(req, socket, head\) is not available in Deno/],
    ['bun', () => bunEntry.upgrade({}, {}, new Uint8Array()), /upgrade\(req, socket, head\) is not available in Bun/],
    ['browser', () => browserEntry.serve({}, () => {}), /serve\(\) is not available in a browser: a web page cannot accept connections/],
    ['browser', () => browserEntry.upgrade({}, {}, new Uint8Array()), /not available in a browser/],
  ];
  for (const [runtime, call, re] of cases) {
    try {
      call();
      assert.unreachable(`${runtime}: no error`);
    } catch (e) {
      assert.instance(e, nodeEntry.UnsupportedFeatureError);
      assert.is((e as InstanceType<typeof nodeEntry.UnsupportedFeatureError>).runtime, runtime);
      assert.match((e as Error).message, re);
    }
  }
});

test.run();
