/** Our client against our server, over 127.0.0.1 and ::1, with and without permessage-deflate. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { serve, connect, type WebSocketStream, type WebSocketServer } from '../src/index.js';
import { within, hasIPv6 } from './helpers.js';
import { runChecklist, closeCommand, type ChecklistTarget } from './checklist.js';

/** Echo with the `__close` command; records the close info of every session. */
function ourEchoServer(hostname: string, deflate: boolean) {
  let last: Promise<{ code: number; reason: string }> = Promise.reject(new Error('no session yet'));
  last.catch(() => {});
  const server = serve({ hostname, port: 0, protocols: ['chat'], deflate }, async (ws: WebSocketStream) => {
    last = ws.closed.then((c) => ({ code: c.closeCode, reason: c.reason }));
    last.catch(() => {});
    const { readable, writable } = await ws.opened;
    const w = writable.getWriter();
    const r = readable.getReader();
    try {
      for (;;) {
        const { value, done } = await r.read();
        if (done) break;
        const cmd = closeCommand(value);
        if (cmd) ws.close({ closeCode: cmd.code, reason: cmd.reason });
        else if ((w.desiredSize ?? 1) <= 0) await w.write(value);
        else void w.write(value).catch(() => {});
      }
    } catch {
      /* connection ended */
    }
  });
  return { server, lastServerClose: () => last };
}

for (const [host, deflate] of [['127.0.0.1', false], ['127.0.0.1', true], ['::1', false]] as const) {
  const s = suite(`ours ↔ ours over ${host}${deflate ? ' with permessage-deflate' : ''}`);
  let srv: ReturnType<typeof ourEchoServer> | undefined;
  let server: WebSocketServer | undefined;
  let skip = false;
  s.before(async () => {
    if (host === '::1' && !(await hasIPv6())) {
      skip = true;
      return;
    }
    srv = ourEchoServer(host, deflate);
    server = srv.server;
    await server.ready;
  });
  s.after(async () => {
    if (server) await within(server.close(), 8000, 'server close');
  });
  s('checklist', async () => {
    if (skip) return console.log('  (no IPv6 loopback: skipped)');
    const url = host.includes(':') ? `ws://[${host}]:${server!.port}/echo` : `ws://${host}:${server!.port}/echo`;
    const t: ChecklistTarget = {
      deflate,
      open: (protocols) => connect(url, { deflate, ...(protocols ? { protocols } : {}) }),
      lastServerClose: () => srv!.lastServerClose(),
    };
    await runChecklist(t);
    assert.is(server!.connections, 0);
  });
  s.run();
}
