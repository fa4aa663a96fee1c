/** Our client <-> our server, over TCP (with and without permessage-deflate) and TLS. */
import { pairSuite, skipOutside } from './pair-suite.js';
import { inBun, makeCerts, ourClient, ourServer } from './sides.js';

if (inBun) {
  pairSuite({
    name: 'bun: our client <-> our server (ws:)',
    deflate: false,
    server: () => ourServer(),
    client: (url, protocols) => ourClient(url, protocols),
  });
  pairSuite({
    name: 'bun: our client <-> our server (ws:, permessage-deflate)',
    deflate: true,
    server: () => ourServer({ deflate: true }),
    client: (url, protocols) => ourClient(url, protocols, { deflate: true }),
  });
  const certs = makeCerts();
  pairSuite({
    name: 'bun: our client <-> our server (wss:, IPv6 literal)',
    deflate: false,
    server: async () => ourServer({ hostname: '::1', tls: await certs }),
    client: async (url, protocols) => ourClient(url, protocols, { ca: (await certs).ca }),
  });
} else {
  skipOutside('Bun', 'ours.test.ts');
}
