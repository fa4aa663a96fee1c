// connectWith / dialTarget: the runtime-free half of every adapter's connect(), over in-memory pipes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, connectWith, createPipePair, dialTarget, type ByteDuplex } from '../src/index.js';
import { sleep, within } from './helpers.js';

const s = suite('dialing');

s('dialTarget: default ports, TLS by scheme, IPv6 literals without brackets', () => {
  assert.equal(dialTarget(new URL('ws://example.com/x')), { hostname: 'example.com', port: 80, secure: false });
  assert.equal(dialTarget(new URL('wss://example.com/')), { hostname: 'example.com', port: 443, secure: true });
  assert.equal(dialTarget(new URL('ws://[::1]:9001/')), { hostname: '::1', port: 9001, secure: false });
  assert.equal(dialTarget(new URL('https://127.0.0.1:8443/')), { hostname: '127.0.0.1', port: 8443, secure: true });
  assert.equal(dialTarget(new URL('http://h/')), { hostname: 'h', port: 80, secure: false });
});

s('connectWith dials the normalised URL and opens a session over what the dialer returns', async () => {
  const dialed: string[] = [];
  let server: ReturnType<typeof accept> | undefined;
  const ws = connectWith(async (url, signal) => {
    dialed.push(url.href);
    assert.not.ok(signal.aborted);
    const [c, sv] = createPipePair();
    server = accept(sv, {});
    return c;
  }, 'ws://Example.COM:80/chat?x=1', { protocols: ['a'] });
  const { protocol } = await within(ws.opened, 3000, 'open');
  assert.is(protocol, '');
  assert.equal(dialed, ['ws://example.com/chat?x=1']);
  ws.close();
  await within(ws.closed);
  await within(server!.closed);
});

s('one deadline: handshakeTimeout bounds a dial that never completes, and aborts it', async () => {
  let seen: AbortSignal | undefined;
  const ws = connectWith((_url, signal) => {
    seen = signal;
    return new Promise<ByteDuplex>(() => {});
  }, 'ws://example.com/', { handshakeTimeout: 50 });
  const e = await within(ws.opened.then(() => null, (x: unknown) => x), 3000, 'timed out');
  assert.ok(e, 'opened rejected');
  assert.ok(seen?.aborted, 'the dial was aborted');
  assert.is(seen?.reason, e);
});

s('a connection that completes after the opening failed is closed at once', async () => {
  let finish!: (c: ByteDuplex) => void;
  const ws = connectWith(() => new Promise<ByteDuplex>((r) => (finish = r)), 'ws://example.com/', { handshakeTimeout: 30 });
  await within(ws.opened.then(() => assert.unreachable('opened'), () => {}), 3000, 'failed');
  const [c, sv] = createPipePair();
  finish(c);
  // The server end sees the client's side end (EOF or reset), with nothing written.
  const r = sv.readable.getReader();
  const got = await within(r.read().then((x) => (x.done ? 'eof' : 'data'), () => 'reset'), 3000, 'closed');
  assert.ok(got === 'eof' || got === 'reset', got);
});

s('a dial that rejects (or throws) rejects opened with its error', async () => {
  const boom = new Error('ECONNREFUSED');
  for (const dial of [() => Promise.reject(boom), () => { throw boom; }]) {
    const ws = connectWith(dial as () => Promise<ByteDuplex>, 'ws://example.com/');
    assert.is(await within(ws.opened.then(() => null, (x: unknown) => x)), boom);
    await within(ws.closed.catch(() => {}));
  }
});

s('a bad URL throws synchronously and nothing is dialed', async () => {
  let called = false;
  assert.throws(() => connectWith(async () => { called = true; return createPipePair()[0]; }, 'ftp://example.com/'), SyntaxError);
  await sleep(10);
  assert.not.ok(called);
});

s.run();
