// ServerCore: the runtime-free part of every adapter's serve(), over in-memory pipes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { channelFromStreams, connect, createPipePair, type PipeEnd } from '../src/index.js';
import { acceptOptionsOf, ServerCore, type ServedConnection } from '../src/server-core.js';
import { HandshakeError } from '@streamsocket/handshake';
import { rawClient, sleep, within } from './helpers.js';

const URL_ = 'ws://example.com/';

/** The server end of a pipe as an adapter would hand it over: its channel; destroy() resets the pipe (an RST). */
function served(end: PipeEnd): ServedConnection & { destroyed: boolean } {
  const conn = Object.assign(channelFromStreams(end), { destroyed: false });
  const destroy = conn.destroy.bind(conn);
  conn.destroy = () => {
    conn.destroyed = true;
    destroy();
    end.reset();
  };
  return conn;
}

interface Info { id: number }

/** A client WebSocketStream and the server-side connection, joined by a pipe and added to `core`. */
function dialInto(core: ServerCore<Info>, id: number, clientOpts = {}) {
  const [c, s] = createPipePair();
  const conn = served(s);
  core.add(conn, { id });
  return { client: connect(c, URL_, clientOpts), conn, raw: c };
}

/** What the server wrote until it closed the connection (cleanly, or by a reset when `reset` is true). */
async function readText(end: PipeEnd, reset = false): Promise<string> {
  const r = end.readable.getReader();
  let out = '';
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await within(r.read(), 3000, 'raw read');
    } catch (e) {
      if (reset && !String(e).includes('did not settle')) return out;
      throw e;
    }
    if (chunk.done) return out;
    out += new TextDecoder().decode(chunk.value);
  }
}

const s = suite('ServerCore');

s('hands each opened session and the adapter info plus the request to the handler', async () => {
  const seen: Array<{ id: number; target: string }> = [];
  const core = new ServerCore<Info>({ accept: {} }, async (ws, info) => {
    seen.push({ id: info.id, target: info.request.target });
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable);
  });
  const { client } = dialInto(core, 7);
  const { readable, writable } = await within(client.opened, 3000, 'open');
  const w = writable.getWriter();
  await w.write('hello');
  const r = readable.getReader();
  assert.is((await within(r.read())).value, 'hello');
  assert.equal(seen, [{ id: 7, target: '/' }]);
  assert.is(core.connections, 1);
  client.close();
  await within(client.closed);
  await within((async () => { while (core.connections > 0) await sleep(5); })(), 3000, 'released');
  await core.close();
});

s('at maxPendingHandshakes the oldest pending connection is dropped (closed, counted, EVICTED to onError) and the newest served', async () => {
  const errors: Array<[unknown, number]> = [];
  const core = new ServerCore<Info>(
    { accept: { handshakeTimeout: 60_000 }, maxPendingHandshakes: 2, onError: (e, info) => errors.push([e, info.id]) },
    async (ws) => {
      const { readable, writable } = await ws.opened;
      await readable.pipeTo(writable);
    },
  );
  const [hold1, h1] = createPipePair();
  const [hold2, h2] = createPipePair();
  const silent1 = served(h1);
  const silent2 = served(h2);
  core.add(silent1, { id: 1 }, '192.0.2.1'); // send nothing: the two slots are taken
  core.add(silent2, { id: 2 }, '192.0.2.1');
  assert.is(core.pendingHandshakes, 2);
  const { client } = dialInto(core, 3);
  const { readable, writable } = await within(client.opened, 3000, 'newest opened');
  await writable.getWriter().write('in');
  assert.is((await within(readable.getReader().read())).value, 'in');
  assert.ok(silent1.destroyed, 'the oldest was dropped');
  assert.not.ok(silent2.destroyed);
  assert.is(core.stats.evicted, 1);
  await within((async () => { while (errors.length < 1) await sleep(5); })(), 3000, 'reported');
  const [e, id] = errors[0]!;
  assert.is(id, 1);
  assert.ok(e instanceof HandshakeError);
  assert.is((e as HandshakeError).code, 'EVICTED');
  assert.is((e as HandshakeError).status, 503);
  assert.is(core.pendingHandshakes, 1);
  hold1.reset();
  hold2.reset();
  client.close();
  await core.close();
});

s('per-address caps: one address drops its own oldest; an address over maxConnectionsPerAddress gets 429', async () => {
  const errors: string[] = [];
  const core = new ServerCore<Info>(
    { accept: { handshakeTimeout: 60_000 }, maxPendingHandshakesPerAddress: 1, maxConnectionsPerAddress: 1, onError: (e) => errors.push((e as HandshakeError).code) },
    async (ws) => {
      await ws.opened.catch(() => {});
    },
  );
  const [other, o] = createPipePair();
  const slowOther = served(o);
  core.add(slowOther, { id: 1 }, '198.51.100.7');
  const [x, xs] = createPipePair();
  const slowA = served(xs);
  core.add(slowA, { id: 2 }, '203.0.113.1');
  const [c, cs] = createPipePair();
  core.add(served(cs), { id: 3 }, '203.0.113.1');
  const ws = connect(c, URL_);
  await within(ws.opened, 3000, 'opened');
  assert.ok(slowA.destroyed, "203.0.113.1's own oldest dropped");
  assert.not.ok(slowOther.destroyed, 'another address keeps its slot');
  assert.is(core.stats.evictedPerAddress, 1);
  // 203.0.113.1 now holds its one session: the next connection is refused before its handshake.
  const [r, rs] = createPipePair();
  const refused = served(rs);
  core.add(refused, { id: 4 }, '203.0.113.1');
  const answer = await readText(r);
  assert.match(answer, /^HTTP\/1\.1 429 /);
  assert.match(answer, /\r\nRetry-After: 1\r\n/i);
  await within(refused.closed, 3000, 'refused closed');
  assert.is(core.stats.refusedPerAddress, 1);
  assert.ok(errors.includes('EVICTED') && errors.includes('TOO_MANY_CONNECTIONS'), errors.join());
  other.reset();
  x.reset();
  ws.close();
  await core.close();
});

s('trustedProxies: clientAddress from X-Forwarded-For; the per-address session cap counts it (1013 after the 101)', async () => {
  const clients: string[] = [];
  const core = new ServerCore<Info>(
    { accept: {}, trustedProxies: ['127.0.0.1'], maxConnectionsPerAddress: 1 },
    async (ws, info) => {
      clients.push(info.clientAddress);
      await ws.opened.catch(() => {});
    },
  );
  const dial = (xff: string) => {
    const [c, cs] = createPipePair();
    core.add(served(cs), { id: 0 }, '127.0.0.1');
    return connect(c, URL_, { headers: { 'X-Forwarded-For': xff } });
  };
  const a = dial('203.0.113.1');
  const b = dial('203.0.113.2');
  await within(Promise.all([a.opened, b.opened]), 3000, 'both opened');
  const again = dial('203.0.113.1');
  await within(again.opened, 3000, 'opened, then closed');
  const closed = await within(again.closed.then((c) => c, (e: { closeCode: number }) => e), 3000, 'closed');
  assert.is(closed.closeCode, 1013);
  assert.equal(clients.sort(), ['203.0.113.1', '203.0.113.2']);
  assert.is(core.stats.refusedPerAddress, 1);
  a.close();
  b.close();
  await core.close();
});

s('a handler that throws or rejects: 1011 to the peer, the error to onError with the request', async () => {
  for (const fail of [() => { throw new Error('sync bug'); }, async () => { throw new Error('async bug'); }]) {
    const errors: Array<[unknown, number, string | undefined]> = [];
    const core = new ServerCore<Info>({ accept: {}, onError: (e, info) => errors.push([e, info.id, info.request?.target]) }, fail);
    const { client } = dialInto(core, 3);
    const closed = await within(client.closed.then((c) => c, (e: { closeCode: number }) => e), 3000, 'closed');
    assert.is(closed.closeCode, 1011);
    assert.is(errors.length, 1);
    assert.match((errors[0]![0] as Error).message, /bug/);
    assert.is(errors[0]![1], 3);
    assert.is(errors[0]![2], '/');
    await core.close();
  }
});

s('a refused handshake goes to onError (request null: no session was opened); a throwing onError is contained', async () => {
  const errors: Array<[unknown, string | undefined]> = [];
  const core = new ServerCore<Info>(
    {
      accept: { onRequest: () => ({ status: 403, body: 'no' }) },
      onError: (e, info) => {
        errors.push([e, info.request?.target]);
        throw new Error('hook bug');
      },
    },
    () => assert.unreachable('no session'),
  );
  const { client } = dialInto(core, 1);
  const e = await within(client.opened.then(() => null, (x: unknown) => x), 3000, 'refused');
  assert.is((e as { status?: number }).status, 403);
  await within((async () => { while (errors.length === 0) await sleep(5); })(), 3000, 'reported');
  assert.instance(errors[0]![0], HandshakeError);
  assert.is(errors[0]![1], undefined);
  assert.is(core.pendingHandshakes, 0);
  await core.close();
});

s('close(): 1001 with the reason to every session, handshakes in progress aborted, later connections destroyed', async () => {
  const core = new ServerCore<Info>({ accept: { handshakeTimeout: 60_000 } }, async (ws) => {
    const { readable } = await ws.opened;
    await readable.pipeTo(new WritableStream()).catch(() => {});
  });
  const a = dialInto(core, 1);
  const b = dialInto(core, 2);
  await within(Promise.all([a.client.opened, b.client.opened]), 3000, 'open');
  const [pc, ps] = createPipePair();
  const pendingConn = served(ps);
  core.add(pendingConn, { id: 3 }); // never sends a head
  await within((async () => { while (core.connections < 2) await sleep(5); })(), 3000, 'registered');
  await within(core.close('maintenance'), 3000, 'close');
  for (const { client } of [a, b]) assert.equal(await within(client.closed), { closeCode: 1001, reason: 'maintenance' });
  await within(pendingConn.closed, 3000, 'pending connection gone');
  assert.is(core.connections, 0);
  assert.is(core.pendingHandshakes, 0);
  assert.ok(core.closing);
  const late = served(createPipePair()[1]);
  core.add(late, { id: 4 });
  assert.ok(late.destroyed, 'a connection added after close() is destroyed');
  assert.is(await core.close(), undefined, 'idempotent');
  pc.reset();
});

s('close() is bounded: a peer that never answers the close is destroyed after closeTimeout + grace', async () => {
  const core = new ServerCore<Info>({ accept: { closeTimeout: 100 } }, () => {});
  const [c, s2] = createPipePair();
  const conn = served(s2);
  core.add(conn, { id: 1 });
  // A client that completes the handshake by hand and then never answers our close.
  await rawClient(c);
  await within((async () => { while (core.connections < 1) await sleep(5); })(), 3000, 'open');
  const t0 = Date.now();
  await within(core.close(), 5000, 'close');
  const took = Date.now() - t0;
  assert.ok(took < 100 + 1000 + 500, `close took ${took} ms`);
  await within(conn.closed, 100, 'gone');
  c.reset();
});

s('webSocket: true hands the handler a WHATWG WebSocket', async () => {
  const core = new ServerCore<Info>({ accept: {}, webSocket: true }, (ws) => {
    ws.onmessage = (e) => ws.send(`echo ${String((e as MessageEvent).data)}`);
  });
  const { client } = dialInto(core, 1);
  const { readable, writable } = await within(client.opened);
  await writable.getWriter().write('x');
  assert.is((await within(readable.getReader().read())).value, 'echo x');
  await core.close();
});

s('the request head read a byte at a time: the session opens over what follows it, in order', async () => {
  const core = new ServerCore<Info>({ accept: {} }, async (ws) => {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable);
  });
  const [c, cs] = createPipePair();
  core.add(served(cs), { id: 1 });
  // A client whose request head and first frame reach the server one byte per write.
  const trickle = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctrl) {
      for (let i = 0; i < chunk.length; i++) ctrl.enqueue(chunk.slice(i, i + 1));
    },
  });
  trickle.readable.pipeTo(c.writable).catch(() => {});
  const client = connect({ readable: c.readable, writable: trickle.writable }, URL_);
  const { readable, writable } = await within(client.opened, 3000, 'opened');
  assert.is(core.pendingHandshakes, 0);
  const w = writable.getWriter();
  await w.write('one');
  await w.write('two');
  const r = readable.getReader();
  assert.is((await within(r.read())).value, 'one');
  assert.is((await within(r.read())).value, 'two');
  client.close();
  await within(client.closed);
  await core.close();
});

s('heads that never complete: timed out (counted, 408 to onError, no response), 400 at EOF, 431 when too large', async () => {
  const errors: Array<[HandshakeError, number, unknown]> = [];
  const core = new ServerCore<Info>(
    { accept: { handshakeTimeout: 150, maxHeadSize: 256 }, onError: (e, info) => errors.push([e as HandshakeError, info.id, info.request]) },
    () => assert.unreachable('no session'),
  );
  const enc = new TextEncoder();
  const [silent, ss] = createPipePair();
  const silentConn = served(ss);
  core.add(silentConn, { id: 1 });
  const [half, hs] = createPipePair();
  core.add(served(hs), { id: 2 });
  const hw = half.writable.getWriter();
  await hw.write(enc.encode('GET / HTTP/1.1\r\nHost: x\r\n'));
  hw.close().catch(() => {}); // FIN before the blank line
  const [big, bs] = createPipePair();
  core.add(served(bs), { id: 3 });
  big.writable.getWriter().write(enc.encode('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(300) + '\r\n')).catch(() => {});
  assert.match(await readText(half), /^HTTP\/1\.1 400 /);
  assert.match(await readText(big), /^HTTP\/1\.1 431 /);
  const t0 = Date.now();
  assert.is(await readText(silent, true), '', 'a timed-out connection gets no response');
  await within(silentConn.closed, 3000, 'silent closed');
  assert.ok(Date.now() - t0 < 1000);
  await within((async () => { while (errors.length < 3) await sleep(5); })(), 3000, 'reported');
  const byId = new Map(errors.map(([e, id, request]) => [id, { status: e.status, code: e.code, request }]));
  assert.equal(byId.get(1), { status: 408, code: 'HANDSHAKE_TIMEOUT', request: null });
  assert.equal(byId.get(2), { status: 400, code: 'INCOMPLETE_HEAD', request: null });
  assert.equal(byId.get(3)!.status, 431);
  assert.is(core.stats.handshakeTimeouts, 1);
  assert.is(core.pendingHandshakes, 0);
  await core.close();
});

s('the handshake timeout spans the whole handshake: a head read late leaves only the rest of it for onRequest', async () => {
  let hookCalled = 0;
  const errors: HandshakeError[] = [];
  const core = new ServerCore<Info>(
    {
      accept: {
        handshakeTimeout: 400,
        onRequest: () => {
          hookCalled = Date.now();
          return new Promise<void>(() => {}); // never answers
        },
      },
      onError: (e) => errors.push(e as HandshakeError),
    },
    () => assert.unreachable('no session'),
  );
  const [c, cs] = createPipePair();
  const conn = served(cs);
  const t0 = Date.now();
  core.add(conn, { id: 1 });
  await sleep(250);
  c.writable.getWriter().write(new TextEncoder().encode(
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )).catch(() => {});
  await within(conn.closed, 3000, 'closed at the deadline');
  const took = Date.now() - t0;
  assert.ok(hookCalled > 0, 'the hook ran');
  assert.ok(took >= 380 && took < 600, `closed after ${took} ms, not 250 + 400`);
  await within((async () => { while (errors.length < 1) await sleep(5); })(), 3000, 'reported');
  assert.is(errors[0]!.code, 'HANDSHAKE_TIMEOUT');
  assert.is(core.stats.handshakeTimeouts, 1);
  c.reset();
  await core.close();
});

s('without onError, timed-out heads are only counted; close() aborts the heads still being read (SERVER_CLOSING)', async () => {
  const quiet = new ServerCore<Info>({ accept: { handshakeTimeout: 50 } }, () => {});
  const pipes = Array.from({ length: 20 }, () => createPipePair());
  for (const [, s2] of pipes) quiet.add(served(s2), { id: 0 });
  await within((async () => { while (quiet.stats.handshakeTimeouts < 20) await sleep(5); })(), 3000, 'timed out');
  assert.is(quiet.pendingHandshakes, 0);
  for (const [c] of pipes) c.reset();
  await quiet.close();

  const errors: string[] = [];
  const core = new ServerCore<Info>({ accept: { handshakeTimeout: 60_000 }, onError: (e) => errors.push((e as HandshakeError).code) }, () => {});
  const [c, s2] = createPipePair();
  const conn = served(s2);
  core.add(conn, { id: 1 });
  c.writable.getWriter().write(new TextEncoder().encode('GET / HT')).catch(() => {});
  await sleep(20);
  assert.is(core.pendingHandshakes, 1);
  await within(core.close(), 3000, 'close');
  await within(conn.closed, 3000, 'aborted');
  assert.equal(errors, ['SERVER_CLOSING']);
  assert.is(core.pendingHandshakes, 0);
  c.reset();
});

s('acceptOptionsOf: the session options inside serve() options', () => {
  const onError = (): void => {};
  const a = acceptOptionsOf(
    { hostname: '::', port: 1, permessageDeflate: true, maxPendingHandshakes: 2, webSocket: true, onError, protocols: ['mqtt'], closeTimeout: 9, tls: {}, readBufferSize: 3 } as never,
    ['tls', 'readBufferSize'],
  );
  assert.equal(a, { protocols: ['mqtt'], closeTimeout: 9, deflate: true });
  assert.equal(acceptOptionsOf({ permessageDeflate: true, deflate: false }, []), { deflate: false }, 'deflate wins over its alias');
});

s('maxPendingHandshakes below 1 is refused', () => {
  assert.throws(() => new ServerCore<Info>({ accept: {}, maxPendingHandshakes: 0 }, () => {}), RangeError);
  assert.throws(() => new ServerCore<Info>({ accept: {}, maxPendingHandshakesPerAddress: 0 }, () => {}), RangeError);
});

s.run();
