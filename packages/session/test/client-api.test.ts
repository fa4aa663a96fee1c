// clientApi: the client half every adapter exports (connect, createWebSocket, createWebSocketStream), over in-memory
// pipes and a recording dialer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deflateAvailable } from '@streamsocket/codec';
import { accept, clientApi, createPipePair, type ByteDuplex, type ClientOptions } from '../src/index.js';
import { within } from './helpers.js';

interface Options extends ClientOptions<{ ca?: string }> {
  ca?: string;
}

/** A clientApi whose dial records the options it got and answers with a server session (or never, or the raw pipe). */
function recording(mode: 'serve' | 'hang' | 'raw' = 'serve') {
  const dials: Array<{ url: string; options: Options; signal: AbortSignal }> = [];
  const servers: Array<ReturnType<typeof accept>> = [];
  const raw: ByteDuplex[] = [];
  const api = clientApi<Options>({
    dialerOptions: ['ca'],
    dial: async (url, options, signal) => {
      dials.push({ url: url.href, options, signal });
      if (mode === 'hang') return new Promise(() => {});
      const [c, s] = createPipePair();
      if (mode === 'raw') raw.push(s);
      else servers.push(accept(s, { protocols: ['mqtt'] }));
      return c as never;
    },
  });
  return { api, dials, servers, raw };
}

/** The request head the client wrote to a raw pipe end. */
async function requestHead(end: ByteDuplex): Promise<string> {
  const r = end.readable.getReader();
  let text = '';
  while (!text.includes('\r\n\r\n')) {
    const { value, done } = await within(r.read(), 3000, 'request head');
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  r.releaseLock();
  return text.toLowerCase();
}

test('connect: the dial gets every option (its own included), the session opens over what it returns', async () => {
  const { api, dials, servers } = recording();
  const ws = api.connect('ws://Example.com:80/a', { ca: 'PEM', readBufferSize: 1024, proxy: false, protocols: ['mqtt'] });
  const { protocol } = await within(ws.opened, 3000, 'open');
  assert.is(protocol, 'mqtt');
  assert.is(dials.length, 1);
  assert.is(dials[0]!.url, 'ws://example.com/a');
  assert.is(dials[0]!.options.ca, 'PEM');
  assert.is(dials[0]!.options.readBufferSize, 1024);
  ws.close();
  await within(ws.closed, 3000, 'closed');
  await within(servers[0]!.closed, 3000, 'server closed');
});

test('connect: connectTimeout is the one deadline (dial included), and a timed-out dial is aborted', async () => {
  const { api, dials } = recording('hang');
  const ws = api.connect('ws://example.com/', { connectTimeout: 50 });
  const e = await within(ws.opened.then(() => null, (x: unknown) => x), 3000, 'timed out');
  assert.ok(e instanceof Error, 'opened rejected');
  assert.ok(dials[0]!.signal.aborted, 'the dial was aborted');
});

test('the request carries headers and protocols; permessageDeflate offers deflate unless `deflate` says otherwise', async () => {
  const { api, raw } = recording('raw');
  const a = api.connect('ws://example.com/', { headers: { 'x-tenant': 't1' }, protocols: ['mqtt'], permessageDeflate: true });
  const head = await requestHead(raw[0]!);
  assert.ok(head.includes('x-tenant: t1'), head);
  assert.ok(head.includes('sec-websocket-protocol: mqtt'), head);
  assert.is(head.includes('permessage-deflate'), deflateAvailable, `deflate offered where it is available: ${head}`);
  const b = api.connect('ws://example.com/', { permessageDeflate: true, deflate: false });
  assert.not.ok((await requestHead(raw[1]!)).includes('permessage-deflate'), 'deflate: false wins over the alias');
  for (const ws of [a, b]) {
    ws.opened.catch(() => {});
    ws.close();
  }
});

test('a bad proxy option throws synchronously, before anything is dialed', () => {
  const { api, dials } = recording();
  assert.throws(() => api.connect('ws://example.com/', { proxy: 'ftp://proxy.example:21' }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => api.createWebSocket({ proxy: { url: 'http://proxy.example:99999' } }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => api.createWebSocketStream({ proxy: 'gopher://x' }), (e: unknown) => e instanceof TypeError);
  assert.is(dials.length, 0);
});

test('createWebSocket: the class dials with a copy of its options (later changes to the object do not apply)', async () => {
  const { api, dials, servers } = recording();
  const options: Options = { ca: 'first' };
  const WS = api.createWebSocket(options);
  options.ca = 'second';
  const ws = new WS('ws://example.com/chat', ['mqtt']);
  await within(new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('error before open'));
  }), 3000, 'open');
  assert.is(ws.protocol, 'mqtt');
  assert.is(dials[0]!.options.ca, 'first');
  const closed = new Promise<number>((resolve) => (ws.onclose = (ev) => resolve((ev as CloseEvent).code)));
  ws.close(1000);
  assert.is(await within(closed, 3000, 'close event'), 1000);
  await within(servers[0]!.closed, 3000, 'server closed');
});

test('createWebSocketStream: instances dial with the options and open like connect()', async () => {
  const { api, dials, servers } = recording();
  const WSS = api.createWebSocketStream({ ca: 'pem', connectTimeout: 5000 });
  const ws = new WSS('ws://example.com/s', { protocols: ['mqtt'] });
  const { protocol } = await within(ws.opened, 3000, 'open');
  assert.is(protocol, 'mqtt');
  assert.is(dials[0]!.options.ca, 'pem');
  ws.close();
  await within(ws.closed, 3000, 'closed');
  await within(servers[0]!.closed, 3000, 'server closed');
});

test.run();
