/**
 * Interop: Bun's own WebSocket client (which offers permessage-deflate) <-> our server, with and without
 * deflate, and over TLS with its `tls.ca` option.
 */
import { pairSuite, skipOutside } from '../../devtools/testkit/pair-suite.js';
import { bunClient, inBun, makeCerts, ourServer } from './sides.js';

if (inBun) {
  pairSuite({
    name: "bun: Bun's WebSocket client <-> our server (permessage-deflate)",
    deflate: true,
    server: () => ourServer({ deflate: true }),
    client: (url, protocols) => bunClient(url, protocols),
  });
  pairSuite({
    name: "bun: Bun's WebSocket client <-> our server (deflate declined by us)",
    deflate: false,
    server: () => ourServer(),
    client: (url, protocols) => bunClient(url, protocols),
  });
  const certs = makeCerts();
  pairSuite({
    name: "bun: Bun's WebSocket client (tls.ca) <-> our server over TLS (wss:, permessage-deflate)",
    deflate: true,
    server: async () => ourServer({ tls: await certs, deflate: true }),
    client: async (url, protocols) => bunClient(url.replace('127.0.0.1', 'localhost'), protocols, { ca: (await certs).ca }),
  });
} else {
  skipOutside('Bun', 'native-client.test.ts');
}
