/** Our client <-> our server over TLS (wss:), on an IPv6 literal, with a certificate made for the test. */
import { pairSuite, skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inDeno, makeCerts, ourClient, ourServer } from './sides.js';

if (inDeno) {
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
  skipOutside('Deno', 'ours-tls.test.ts');
}
