/**
 * Interop: our client <-> Bun.serve with its `websocket` handlers, with and without `perMessageDeflate`, and over
 * TLS with our `ca` option.
 */
import { pairSuite, skipOutside } from '../../devtools/testkit/pair-suite.js';
import { bunServer, inBun, makeCerts, ourClient } from './sides.js';

if (inBun) {
  pairSuite({
    name: 'bun: our client <-> Bun.serve (ws:)',
    deflate: false,
    server: () => bunServer({ deflate: false }),
    client: (url, protocols) => ourClient(url, protocols),
  });
  pairSuite({
    name: 'bun: our client <-> Bun.serve (ws:, perMessageDeflate)',
    deflate: true,
    server: () => bunServer({ deflate: true }),
    client: (url, protocols) => ourClient(url, protocols, { deflate: true }),
  });
  const certs = makeCerts();
  pairSuite({
    name: 'bun: our client <-> Bun.serve over TLS (wss:, our ca option)',
    deflate: false,
    server: async () => bunServer({ deflate: false, tls: await certs }),
    client: async (url, protocols) => ourClient(url, protocols, { ca: (await certs).ca }),
  });
} else {
  skipOutside('Bun', 'native-server.test.ts');
}
