/** Client-side behaviour of the Deno adapter beyond the echo pairs (the suite: packages/devtools/testkit/client-suite.ts). */
import * as assert from 'uvu/assert';
import { HandshakeError } from '@streamsocket/handshake';
import { connect, createWebSocket, serve, TlsConnectError, WebSocket } from '../src/index.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { clientSuite } from '../../devtools/testkit/client-suite.js';
import { inDeno, makeCerts, ourServer } from './sides.js';

if (inDeno) {
  clientSuite('deno: client', {
    connect, createWebSocket, serve, TlsConnectError, HandshakeError, WebSocket, ourServer, makeCerts,
    async silentListener() {
      const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
      const held: Deno.Conn[] = [];
      const acceptOne = l.accept().then((c) => void held.push(c), () => {});
      return {
        port: l.addr.port,
        async stop() {
          l.close();
          await acceptOne;
          for (const c of held) c.close();
        },
      };
    },
    closedPort() {
      const l = Deno.listen({ hostname: '127.0.0.1', port: 0 });
      const port = l.addr.port;
      l.close();
      return port;
    },
    assertRefused: (e) => assert.match(String((e as Error).name) + String((e as Error).message), /ConnectionRefused|refused/i),
    assertUntrusted: (e) => assert.match((e as Error).message, /UnknownIssuer|certificate/i),
    // Deno cannot skip chain verification per connection (see README).
    canSkipVerification: false,
  });
} else {
  skipOutside('Deno', 'client.test.ts');
}
