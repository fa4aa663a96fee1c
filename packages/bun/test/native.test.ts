/**
 * Interop with Bun's own WebSocket implementations: our server <-> Bun's global WebSocket client (which offers
 * permessage-deflate), and our client <-> Bun.serve with its `websocket` handlers (with and without
 * `perMessageDeflate`, and over TLS).
 */
import { pairSuite, skipOutside } from './pair-suite.js';
import { bunClient, bunServer, inBun, makeCerts, ourClient, ourServer } from './sides.js';

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
    name: "bun: Bun's WebSocket client (tls.ca) <-> our server over TLS (wss:, permessage-deflate)",
    deflate: true,
    server: async () => ourServer({ tls: await certs, deflate: true }),
    client: async (url, protocols) => bunClient(url.replace('127.0.0.1', 'localhost'), protocols, { ca: (await certs).ca }),
  });
  pairSuite({
    name: 'bun: our client <-> Bun.serve over TLS (wss:, our ca option)',
    deflate: false,
    server: async () => bunServer({ deflate: false, tls: await certs }),
    client: async (url, protocols) => ourClient(url, protocols, { ca: (await certs).ca }),
  });
} else {
  skipOutside('Bun', 'native.test.ts');
}
