import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serve, connect } from '../src/index.js';
import { within, echo } from './helpers.js';

test('smoke: echo one text message', async () => {
  const server = serve({ hostname: '127.0.0.1', port: 0 }, (ws) => void echo(ws));
  await server.ready;
  try {
    const ws = connect(`ws://127.0.0.1:${server.port}/x`);
    const { readable, writable } = await within(ws.opened);
    const w = writable.getWriter();
    await w.write('héllo ✓');
    const r = readable.getReader();
    const { value } = await within(r.read());
    assert.is(value, 'héllo ✓');
    ws.close({ closeCode: 1000, reason: 'bye' });
    const c = await within(ws.closed);
    assert.is(c.closeCode, 1000);
  } finally {
    await within(server.close(), 8000, 'server close');
  }
});

test('permessageDeflate alias on both sides negotiates the extension', async () => {
  const server = serve({ hostname: '127.0.0.1', port: 0, permessageDeflate: true }, (ws) => void echo(ws));
  await server.ready;
  try {
    const ws = connect(`ws://127.0.0.1:${server.port}/`, { permessageDeflate: { clientMaxWindowBits: true } });
    const info = await within(ws.opened);
    assert.match(info.extensions, /^permessage-deflate/);
    const w = info.writable.getWriter();
    await w.write('a'.repeat(10_000));
    assert.is((await within(info.readable.getReader().read())).value, 'a'.repeat(10_000));
    ws.close();
    await within(ws.closed);
  } finally {
    await within(server.close(), 8000, 'server close');
  }
});

test.run();
