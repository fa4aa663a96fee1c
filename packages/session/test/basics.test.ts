import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocketError, validateCloseArgs, utf8Length, CloseEvent, MessageEvent, resolveOptions, DEFAULTS, TimerQueue } from '../src/index.js';

function domName(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as DOMException).name;
  }
  return 'no throw';
}

test('close args: WHATWG code and reason checks', () => {
  assert.equal(validateCloseArgs(undefined, undefined), { code: null, reason: '' });
  assert.equal(validateCloseArgs(1000, 'bye'), { code: 1000, reason: 'bye' });
  assert.equal(validateCloseArgs(3000, ''), { code: 3000, reason: '' });
  assert.equal(validateCloseArgs(4999, undefined), { code: 4999, reason: '' });
  assert.equal(validateCloseArgs(undefined, 'r'), { code: 1000, reason: 'r' }, 'reason implies 1000');
  assert.equal(validateCloseArgs(undefined, ''), { code: 1000, reason: '' }, 'a present empty reason implies 1000 too');
  for (const bad of [0, 999, 1001, 1002, 1005, 1006, 1015, 2999, 5000, 65535, NaN]) {
    assert.is(domName(() => validateCloseArgs(bad, '')), 'InvalidAccessError', String(bad));
  }
  assert.equal(validateCloseArgs(1000.4, ''), { code: 1000, reason: '' }, '[Clamp] rounding');
  assert.is(domName(() => validateCloseArgs(1000, 'x'.repeat(124))), 'SyntaxError');
  assert.equal(validateCloseArgs(1000, 'x'.repeat(123)).reason.length, 123);
  assert.is(domName(() => validateCloseArgs(1000, 'é'.repeat(62))), 'SyntaxError', '124 UTF-8 bytes');
  assert.is(domName(() => validateCloseArgs(1000, 'é'.repeat(61))), 'no throw');
});

test('utf8Length matches TextEncoder', () => {
  const enc = new TextEncoder();
  for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b', '\ud800', '\ud800x', '\udc00', 'x\ud83d']) {
    assert.is(utf8Length(s), enc.encode(s).byteLength, JSON.stringify(s));
  }
});

test('WebSocketError: DOMException subclass with closeCode and reason', () => {
  const e = new WebSocketError('m', { closeCode: 4000, reason: 'r' });
  assert.instance(e, DOMException);
  assert.instance(e, WebSocketError);
  assert.is(e.name, 'WebSocketError');
  assert.is(e.message, 'm');
  assert.is(e.closeCode, 4000);
  assert.is(e.reason, 'r');
  const d = new WebSocketError();
  assert.is(d.closeCode, null);
  assert.is(d.reason, '');
  assert.is(new WebSocketError('', { reason: 'x' }).closeCode, 1000);
  assert.is(domName(() => new WebSocketError('', { closeCode: 1006 })), 'InvalidAccessError');
  const i = WebSocketError.internal('abnormal', 1006, '', new Error('cause'));
  assert.is(i.closeCode, 1006);
  assert.is((i as { cause?: Error }).cause!.message, 'cause');
});

test('CloseEvent / MessageEvent', () => {
  const c = new CloseEvent('close', { code: 1000, reason: 'ok', wasClean: true });
  assert.instance(c, Event);
  assert.is(c.type, 'close');
  assert.is(c.code, 1000);
  assert.is(c.reason, 'ok');
  assert.is(c.wasClean, true);
  const d = new CloseEvent('close');
  assert.is(d.code, 0);
  assert.is(d.reason, '');
  assert.is(d.wasClean, false);
  const m = new MessageEvent('message', { data: 'hi', origin: 'ws://x' });
  assert.instance(m, Event);
  assert.is(m.data, 'hi');
  assert.is(m.origin, 'ws://x');
});

test('options: defaults and validation', () => {
  const o = resolveOptions();
  assert.is(o.maxHeadSize, DEFAULTS.maxHeadSize);
  assert.is(o.closeTimeout, 5000);
  assert.is(o.handshakeTimeout, 10000);
  assert.is(o.keepaliveInterval, 0);
  assert.is(o.idleTimeout, 0);
  assert.is(o.deflate, null);
  assert.is(o.fragmentSize, undefined);
  assert.equal(resolveOptions({ deflate: true }).deflate, {});
  assert.equal(resolveOptions({ deflate: { level: 1 } }).deflate, { level: 1 });
  assert.is(resolveOptions({ maxMessageSize: 1000 }).maxFrameSize, 1000, 'frame limit capped by message limit');
  assert.is(resolveOptions({ fragmentSize: 10 }).fragmentSize, 10);
  assert.throws(() => resolveOptions({ closeTimeout: -1 }), RangeError);
  assert.throws(() => resolveOptions({ maxMessageSize: NaN }), RangeError);
  assert.throws(() => resolveOptions({ readHighWaterMark: 'x' as unknown as number }), RangeError);
});

const sleep = (ms: number) => new Promise((r) => globalThis.setTimeout(r, ms));

test('timers: fire in deadline order, cancel and reschedule', async () => {
  const q = new TimerQueue();
  const fired: number[] = [];
  const target = { onTimer: (kind: number) => fired.push(kind) };
  q.schedule(target, 3, 30);
  const a = q.schedule(target, 1, 10);
  q.schedule(target, 2, 20);
  const c = q.schedule(target, 9, 15);
  q.cancel(c);
  q.cancel(c); // idempotent
  q.reschedule(a, 25);
  assert.is(q.size, 3);
  await sleep(60);
  assert.equal(fired, [2, 1, 3]);
  assert.is(q.size, 0);
});

test('timers: many entries, removal from the middle keeps heap order', async () => {
  const q = new TimerQueue();
  const fired: number[] = [];
  const target = { onTimer: (kind: number) => fired.push(kind) };
  const entries = [];
  for (let i = 0; i < 50; i++) entries.push(q.schedule(target, i, 5 + ((i * 7) % 23)));
  for (let i = 0; i < 50; i += 3) q.cancel(entries[i]);
  await sleep(50);
  const expected = [];
  for (let i = 0; i < 50; i++) if (i % 3 !== 0) expected.push(i);
  assert.equal([...fired].sort((x, y) => x - y), expected);
  // fired in non-decreasing order of absolute deadline
  const deadlines = entries.map((e) => e.at);
  for (let k = 1; k < fired.length; k++) assert.ok(deadlines[fired[k - 1]!]! <= deadlines[fired[k]!]!);
});

test('timers: callbacks may schedule; due entries run in the same round', async () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  const good = {
    onTimer: (k: number) => {
      fired.push('g' + k);
      if (k === 1) q.schedule(good, 2, 0);
    },
  };
  q.schedule(good, 1, 2);
  await sleep(30);
  assert.equal(fired, ['g1', 'g2']);
});

test.run();
