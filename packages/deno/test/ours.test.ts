/** Our client <-> our server, over TCP (with and without permessage-deflate) and TLS. */
import { pairSuite, skipOutside } from './pair-suite.js';
import { inDeno, makeCerts, ourClient, ourServer } from './sides.js';

if (inDeno) {
  pairSuite({
    name: 'deno: our client <-> our server (ws:)',
    deflate: false,
    server: () => ourServer(),
    client: (url, protocols) => ourClient(url, protocols),
  });
  pairSuite({
    name: 'deno: our client <-> our server (ws:, permessage-deflate)',
    deflate: true,
    server: () => ourServer({ deflate: true }),
    client: (url, protocols) => ourClient(url, protocols, { deflate: true }),
  });
  const certs = makeCerts();
  pairSuite({
    name: 'deno: our client <-> our server (wss:, IPv6 literal)',
    deflate: false,
    server: async () => {
      const s = await ourServer({ hostname: '::1', tls: await certs });
      return s;
    },
    client: async (url, protocols) => ourClient(url, protocols, { ca: (await certs).ca }),
  });
} else {
  skipOutside('Deno', 'ours.test.ts');
}
