/**
 * serve(): shutdown, handler failures, the pending-handshake cap, abrupt peers, TLS misuse and the signal option,
 * with Deno's own WebSocket client and raw Deno.connect peers (the suite: packages/devtools/testkit/server-suite.ts).
 */
import { connect, serve } from '../src/index.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { serverSuite, type RawTcp } from '../../devtools/testkit/server-suite.js';
import { denoClient, inDeno, makeCerts } from './sides.js';

const raw: RawTcp = {
  async client(port, text) {
    const c = await Deno.connect({ hostname: '127.0.0.1', port });
    if (text) await c.write(new TextEncoder().encode(text));
    return {
      read: async () => {
        const b = new Uint8Array(4096);
        const n = await c.read(b).catch(() => null);
        return n === null ? '' : new TextDecoder().decode(b.subarray(0, n));
      },
      close: () => {
        try {
          c.close();
        } catch {
          /* already closed */
        }
      },
    };
  },
  assertPortFree(port) {
    Deno.listen({ hostname: '127.0.0.1', port }).close();
  },
};

if (inDeno) serverSuite('deno: serve', { runtime: 'Deno', serve, connect, nativeClient: denoClient, makeCerts, raw });
else skipOutside('Deno', 'server.test.ts');
