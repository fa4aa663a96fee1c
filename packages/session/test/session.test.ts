import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connect, createPipePair, WebSocketError } from '../src/index.js';
import { TransformStream } from '@web-std/stream';
import { openPair, settle, within, sleep } from './helpers.js';

test('open: both roles, url, protocol, extensions, request', async () => {
  const { server, client, so, co } = await openPair({ protocols: ['b', 'a'] }, { protocols: ['a', 'b'] }, 'ws://example.com:8080/chat?x=1');
  assert.is(so.protocol, 'b', 'server preference wins');
  assert.is(co.protocol, 'b');
  assert.is(client.protocol, 'b');
  assert.is(server.protocol, 'b');
  assert.is(co.extensions, '');
  assert.is(client.url, 'ws://example.com:8080/chat?x=1');
  assert.is(server.url, 'ws://example.com:8080/chat?x=1');
  assert.is(server.request!.headers.get('sec-websocket-version'), '13');
  assert.is(client.response!.status, 101);
  assert.is(client.readyState, 1);
  assert.is(server.readyState, 1);
  client.close();
  await within(Promise.all([client.closed, server.closed]));
});

test('messages: text as string, binary as Uint8Array; all input types accepted, in order', async () => {
  const { server, client, so, co } = await openPair();
  const w = co.writable.getWriter();
  const ab = new Uint8Array([1, 2, 3]).buffer;
  const view = new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2);
  const blob = new Blob([new Uint8Array([5, 5])]);
  void w.write('hello');
  void w.write(ab);
  void w.write(new Uint16Array([0x0102]));
  void w.write(blob); // awaited in order, even though later writes are synchronous
  void w.write(view);
  void w.write('');
  void w.write(new Uint8Array(0));
  const r = so.readable.getReader();
  const got: unknown[] = [];
  for (let i = 0; i < 7; i++) got.push((await within(r.read())).value);
  assert.is(got[0], 'hello');
  assert.equal(Array.from(got[1] as Uint8Array), [1, 2, 3]);
  assert.instance(got[1], Uint8Array);
  assert.is((got[2] as Uint8Array).byteLength, 2);
  assert.equal(Array.from(got[3] as Uint8Array), [5, 5]);
  assert.equal(Array.from(got[4] as Uint8Array), [8, 7]);
  assert.is(got[5], '');
  assert.equal((got[6] as Uint8Array).byteLength, 0);
  // server -> client
  const sw = so.writable.getWriter();
  await sw.write('back');
  const cr = co.readable.getReader();
  assert.is((await within(cr.read())).value, 'back');
  client.close({ closeCode: 1000, reason: 'done' });
  assert.equal(await within(client.closed), { closeCode: 1000, reason: 'done' });
  assert.equal(await within(server.closed), { closeCode: 1000, reason: 'done' });
});

test('a bad chunk type errors the writable and closes the session', async () => {
  const { server, client, co } = await openPair();
  const w = co.writable.getWriter();
  const res = await settle(w.write(42 as unknown as string));
  assert.not.ok(res.ok);
  assert.instance((res as { error: unknown }).error, TypeError);
  await within(client.closed);
  assert.equal(await within(server.closed), { closeCode: 1005, reason: '' });
});

test('works over plain TransformStream pipes', async () => {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const server = accept({ readable: ab.readable, writable: ba.writable });
  const client = connect({ readable: ba.readable, writable: ab.writable }, 'ws://h/');
  const [so, co] = await within(Promise.all([server.opened, client.opened]));
  const w = co.writable.getWriter();
  await w.write('x'.repeat(100_000));
  const r = so.readable.getReader();
  assert.is(((await within(r.read())).value as string).length, 100_000);
  server.close({ closeCode: 4001, reason: 'bye' });
  assert.equal(await within(client.closed), { closeCode: 4001, reason: 'bye' });
  assert.equal(await within(server.closed), { closeCode: 4001, reason: 'bye' });
});

test('large messages and fragmentation', async () => {
  const { server, client, so, co } = await openPair({ fragmentSize: 1000 }, { fragmentSize: 777 });
  const big = new Uint8Array(200_000);
  for (let i = 0; i < big.length; i++) big[i] = i & 255;
  const w = co.writable.getWriter();
  void w.write(big);
  const r = so.readable.getReader();
  const got = (await within(r.read())).value as Uint8Array;
  assert.is(got.byteLength, big.byteLength);
  assert.ok(got.every((v, i) => v === (i & 255)));
  const sw = so.writable.getWriter();
  void sw.write('é'.repeat(5000));
  const cr = co.readable.getReader();
  assert.is((await within(cr.read())).value, 'é'.repeat(5000));
  client.close();
  await within(Promise.all([client.closed, server.closed]));
});

test('close: validation of code and reason (WHATWG)', async () => {
  const { server, client } = await openPair();
  const name = (f: () => void) => {
    try {
      f();
      return 'none';
    } catch (e) {
      return (e as DOMException).name;
    }
  };
  assert.is(name(() => client.close({ closeCode: 1001 })), 'InvalidAccessError');
  assert.is(name(() => client.close({ closeCode: 2999 })), 'InvalidAccessError');
  assert.is(name(() => client.close({ closeCode: 5000 })), 'InvalidAccessError');
  assert.is(name(() => client.close({ closeCode: 1000, reason: 'x'.repeat(124) })), 'SyntaxError');
  assert.is(client.readyState, 1, 'invalid close() does not start closing');
  client.close({ reason: 'only reason' });
  assert.equal(await within(server.closed), { closeCode: 1000, reason: 'only reason' });
  await within(client.closed);
});

test('ping(): resolves on the matching pong; payload validation; rejects when not open', async () => {
  const { server, client } = await openPair();
  await within(client.ping());
  await within(client.ping(new Uint8Array([1, 2, 3])));
  await within(server.ping(new Uint8Array(125)));
  await within(Promise.all([client.ping(), client.ping(), server.ping()]));
  const tooBig = await settle(client.ping(new Uint8Array(126)));
  assert.not.ok(tooBig.ok);
  assert.instance((tooBig as { error: unknown }).error, RangeError);
  client.close();
  const after = await settle(client.ping());
  assert.not.ok(after.ok);
  assert.is((after as { error: DOMException }).error.name, 'InvalidStateError');
  await within(Promise.all([client.closed, server.closed]));
});

test('ping(): pending pings reject when the connection drops', async () => {
  const { server, client, c } = await openPair();
  // Stop the server from answering: never read on the server side is not enough
  // (pongs are answered inline), so cut the wire instead.
  const p = client.ping();
  c.reset(new Error('cable cut'));
  const r = await settle(p);
  // Either the pong made it before the reset, or the ping rejected with a WebSocketError.
  if (!r.ok) assert.instance(r.error, WebSocketError);
  await settle(client.closed);
  await settle(server.closed);
});

test('readyState transitions and bufferedAmount', async () => {
  const [c, s] = createPipePair();
  const server = accept(s);
  const client = connect(c, 'ws://h/');
  assert.is(client.readyState, 0);
  assert.is(client.bufferedAmount, 0);
  const { writable } = await within(client.opened);
  await within(server.opened);
  assert.is(client.readyState, 1);
  const w = writable.getWriter();
  // A Blob is read asynchronously before it is framed: meanwhile its bytes count as buffered. (A string or bytes
  // reach the channel within write() when it is not congested, so they are never seen buffered here.)
  void w.write(new Blob(['abc']));
  assert.is(client.bufferedAmount, 3);
  // Once framed and handed to the channel it is no longer buffered. How long reading a Blob takes is the runtime's
  // affair (Chromium's can take longer than a few milliseconds): wait for it, bounded.
  for (let i = 0; i < 200 && client.bufferedAmount !== 0; i++) await sleep(10);
  assert.is(client.bufferedAmount, 0);
  client.close();
  assert.is(client.readyState, 2);
  await within(client.closed);
  assert.is(client.readyState, 3);
  await within(server.closed);
});

test('connect: bad URL throws synchronously and closes the conn', () => {
  const [c] = createPipePair();
  assert.throws(() => connect(c, 'http://h/#frag'), (e: Error) => e.name === 'SyntaxError');
  const [c2] = createPipePair();
  assert.throws(() => connect(c2, 'ftp://h/'), (e: Error) => e.name === 'SyntaxError');
  const [c3] = createPipePair();
  assert.throws(() => connect(Promise.resolve(c3), 'ws://h/', { protocols: ['a', 'a'] }), (e: Error) => e.name === 'SyntaxError');
});

test('server url: wss: when the connection is TLS (secure option)', async () => {
  const { client, server } = await openPair({ secure: true }, {}, 'wss://example.com/s');
  assert.is(server.url, 'wss://example.com/s');
  client.close();
  await within(Promise.all([client.closed, server.closed]));
});

test('http: URLs are accepted as ws:', async () => {
  const { client, server } = await openPair({}, {}, 'http://example.com/x');
  assert.is(client.url, 'ws://example.com/x');
  client.close();
  await within(Promise.all([client.closed, server.closed]));
});

test('connect over a promised connection (dialing counts against the handshake)', async () => {
  const [c, s] = createPipePair();
  const server = accept(s);
  const client = connect(
    sleep(5).then(() => c),
    'ws://h/',
  );
  await within(Promise.all([client.opened, server.opened]));
  client.close();
  await within(Promise.all([client.closed, server.closed]));
});

test('bytes after the head (in the same chunk) are decoded first', async () => {
  const [c, s] = createPipePair();
  const { buildClientRequest } = await import('@streamsocket/handshake');
  const { clientFrame } = await import('./helpers.js');
  const req = buildClientRequest('ws://h/');
  const frame = clientFrame(1, 'early');
  const both = new Uint8Array(req.bytes.byteLength + frame.byteLength);
  both.set(req.bytes);
  both.set(frame, req.bytes.byteLength);
  const server = accept(s);
  const w = c.writable.getWriter();
  void w.write(both);
  const so = await within(server.opened);
  const r = so.readable.getReader();
  assert.is((await within(r.read())).value, 'early');
  c.reset();
  await settle(server.closed);
});

test.run();
