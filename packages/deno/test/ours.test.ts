/** Our client <-> our server over TCP, with and without permessage-deflate. */
import { pairSuite, skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inDeno, ourClient, ourServer } from './sides.js';

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
} else {
  skipOutside('Deno', 'ours.test.ts');
}
