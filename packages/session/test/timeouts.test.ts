import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, createPipePair, timers, WebSocketError } from '../src/index.js';
import { openPair, settle, within, sleep, rawClient } from './helpers.js';

test('keepalive: a live peer answers the pings and the session stays open', async () => {
  const { server, client } = await openPair({ keepaliveInterval: 15, keepaliveTimeout: 30 }, { keepaliveInterval: 20, keepaliveTimeout: 30 });
  assert.ok(timers.size >= 2, 'one timer entry per connection with keepalive');
  await sleep(150);
  assert.is(server.readyState, 1);
  assert.is(client.readyState, 1);
  client.close();
  await within(Promise.all([server.closed, client.closed]));
});

test('keepalive: a dead peer (no pong, no data) is closed with 1006 after the timeout', async () => {
  const [c, s] = createPipePair();
  const server = accept(s, { keepaliveInterval: 20, keepaliveTimeout: 30 });
  // Timed from the session's open, where its keepalive starts (not from after the raw client's own setup, which
  // a loaded machine can stretch past the interval).
  let t0 = 0;
  server.opened.then(() => (t0 = Date.now()), () => {});
  const raw = await rawClient(c); // reads, never answers
  await within(server.opened);
  const drained = raw.drain();
  const r = await settle(server.closed);
  assert.not.ok(r.ok);
  const e = (r as { error: WebSocketError }).error;
  assert.is(e.closeCode, 1006);
  assert.match(e.message, /keepalive/);
  assert.ok(Date.now() - t0 >= 40, 'interval + timeout elapsed');
  const msgs = await drained;
  assert.ok(msgs.some((m) => m.type === 'ping'), 'pings were sent');
});

test('keepalive: incoming data counts as liveness (no ping needed)', async () => {
  const [c, s] = createPipePair();
  const server = accept(s, { keepaliveInterval: 30, keepaliveTimeout: 30 });
  const raw = await rawClient(c);
  await within(server.opened);
  const { clientFrame } = await import('./helpers.js');
  for (let i = 0; i < 8; i++) {
    await raw.writer.write(clientFrame(1, 'tick'));
    await sleep(15);
  }
  assert.is(server.readyState, 1, 'data kept it alive although pings went unanswered');
  c.reset();
  await settle(server.closed);
});

test('idle timeout: no message either way -> close 1001 "idle timeout"', async () => {
  const { server, client } = await openPair({ idleTimeout: 50 });
  const t0 = Date.now();
  assert.equal(await within(client.closed), { closeCode: 1001, reason: 'idle timeout' });
  assert.equal(await within(server.closed), { closeCode: 1001, reason: 'idle timeout' });
  assert.ok(Date.now() - t0 >= 40);
});

test('idle timeout: messages in either direction reset it', async () => {
  const { server, client, co, so } = await openPair({ idleTimeout: 50 });
  const w = co.writable.getWriter();
  const r = so.readable.getReader();
  for (let i = 0; i < 8; i++) {
    await w.write('ping-ish');
    await r.read();
    await sleep(20);
  }
  assert.is(server.readyState, 1, 'still open after 160 ms of activity');
  const sw = so.writable.getWriter();
  for (let i = 0; i < 4; i++) {
    await sw.write('server talking');
    await sleep(20);
  }
  assert.is(server.readyState, 1, 'outgoing messages count too');
  assert.equal(await within(client.closed), { closeCode: 1001, reason: 'idle timeout' });
  await within(server.closed);
});

test('no timer is held by an idle connection without keepalive/idle; close timer only while closing', async () => {
  const before = timers.size;
  const { server, client } = await openPair();
  assert.is(timers.size, before, 'open and idle: no timer entries');
  client.close();
  assert.is(timers.size, before + 1, 'closing: one close timer');
  await within(Promise.all([server.closed, client.closed]));
  await sleep(1);
  assert.is(timers.size, before, 'closed: no timers left');
});

test('closeWithCode / goingAway: wire codes beyond the WHATWG user range', async () => {
  const a = await openPair();
  a.server.goingAway('restart');
  assert.equal(await within(a.client.closed), { closeCode: 1001, reason: 'restart' });
  await within(a.server.closed);
  const b = await openPair();
  b.server.closeWithCode(1011, 'oops');
  assert.equal(await within(b.client.closed), { closeCode: 1011, reason: 'oops' });
  assert.throws(() => b.server.closeWithCode(1006), RangeError);
  assert.throws(() => b.server.closeWithCode(1005), RangeError);
  assert.throws(() => b.server.closeWithCode(1000, 'x'.repeat(124)), (e: Error) => e.name === 'SyntaxError');
  const [c] = createPipePair();
  const { connect } = await import('../src/index.js');
  const pending = connect(c, 'ws://h/');
  pending.goingAway();
  assert.not.ok((await settle(pending.opened)).ok);
});

test.run();
