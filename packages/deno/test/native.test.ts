/**
 * Interop with Deno's own WebSocket implementations: our server <-> Deno's global WebSocket client, and our
 * client <-> Deno.serve + Deno.upgradeWebSocket (plain and TLS). Neither of Deno's sides implements
 * permessage-deflate (measured on Deno 2.9.6: its client offers no extension and Deno.serve answers an offer
 * without one), so these pairs run uncompressed; our side offering/accepting deflate must then fall back.
 */
import { pairSuite, skipOutside } from '../../devtools/testkit/pair-suite.js';
import { denoClient, denoServer, inDeno, makeCerts, ourClient, ourServer } from './sides.js';

if (inDeno) {
  pairSuite({
    name: "deno: Deno's WebSocket client <-> our server (deflate offered by nobody, accepted by us)",
    deflate: false,
    server: () => ourServer({ deflate: true }),
    client: (url, protocols) => denoClient(url, protocols),
  });
  pairSuite({
    name: 'deno: our client (offering deflate) <-> Deno.serve + upgradeWebSocket',
    deflate: false,
    server: () => denoServer(),
    client: (url, protocols) => ourClient(url, protocols, { deflate: true }),
  });
  const certs = makeCerts();
  pairSuite({
    name: 'deno: our client <-> Deno.serve over TLS (wss:, our ca option)',
    deflate: false,
    server: async () => denoServer(await certs),
    client: async (url, protocols) => ourClient(url, protocols, { ca: (await certs).ca }),
  });
} else {
  skipOutside('Deno', 'native.test.ts');
}
