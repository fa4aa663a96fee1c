/** Client-side behaviour of the Bun adapter beyond the echo pairs (the suite: packages/devtools/testkit/client-suite.ts). */
import * as assert from 'uvu/assert';
import { HandshakeError } from '@streamsocket/handshake';
import { connect, createWebSocket, serve, TlsConnectError, WebSocket } from '../src/index.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { clientSuite } from '../../devtools/testkit/client-suite.js';
import { inBun, makeCerts, ourServer } from './sides.js';

if (inBun) {
  clientSuite('bun: client', {
    connect, createWebSocket, serve, TlsConnectError, HandshakeError, WebSocket, ourServer, makeCerts,
    async silentListener() {
      const held = new Set<Bun.Socket<unknown>>();
      const l = Bun.listen({
        hostname: '127.0.0.1',
        port: 0,
        socket: { open: (sk) => void held.add(sk), data() {}, close: (sk) => void held.delete(sk) },
      });
      return {
        port: l.port,
        stop() {
          l.stop(true);
          for (const sk of held) sk.terminate();
        },
      };
    },
    closedPort() {
      const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
      l.stop(true);
      return l.port;
    },
    assertRefused: (e) => assert.is((e as { code?: string }).code, 'ECONNREFUSED'),
    assertUntrusted: (e) => assert.match((e as TlsConnectError).code, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/),
    canSkipVerification: true,
  });
} else {
  skipOutside('Bun', 'client.test.ts');
}
