/**
 * serve(): shutdown, handler failures, the pending-handshake cap, abrupt peers, TLS misuse and the signal option,
 * with Bun's own WebSocket client and raw Bun.connect peers (the suite: packages/devtools/testkit/server-suite.ts).
 */
import { connect, serve } from '../src/index.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { serverSuite, type RawTcp } from '../../devtools/testkit/server-suite.js';
import { bunClient, inBun, makeCerts } from './sides.js';

const raw: RawTcp = {
  async client(port, text) {
    // Bun's sockets push data to handlers: queue it for read(), '' once ended or closed.
    const chunks: string[] = [];
    const waiting: ((s: string) => void)[] = [];
    let ended = false;
    const push = (s: string): void => {
      const w = waiting.shift();
      if (w) w(s);
      else chunks.push(s);
    };
    const end = (): void => {
      ended = true;
      for (const w of waiting.splice(0)) w('');
    };
    const c = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: { data: (_s, d) => push(new TextDecoder().decode(d)), end, close: end, error: end },
    });
    if (text) c.write(text);
    return {
      read: () => (chunks.length ? Promise.resolve(chunks.shift()!) : ended ? Promise.resolve('') : new Promise((r) => waiting.push(r))),
      close: () => c.terminate(),
    };
  },
  assertPortFree(port) {
    Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true);
  },
};

if (inBun) serverSuite('bun: serve', { runtime: 'Bun', serve, connect, nativeClient: bunClient, makeCerts, raw });
else skipOutside('Bun', 'server.test.ts');
