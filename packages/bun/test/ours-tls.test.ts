/** Our client <-> our server over TLS (wss:), on an IPv6 literal, with a certificate made for the test. */
import { pairSuite, skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inBun, makeCerts, ourClient, ourServer } from './sides.js';

if (inBun) {
  const certs = makeCerts();
  pairSuite({
    name: 'bun: our client <-> our server (wss:, IPv6 literal)',
    deflate: false,
    server: async () => ourServer({ hostname: '::1', tls: await certs }),
    client: async (url, protocols) => ourClient(url, protocols, { ca: (await certs).ca }),
  });
} else {
  skipOutside('Bun', 'ours-tls.test.ts');
}
