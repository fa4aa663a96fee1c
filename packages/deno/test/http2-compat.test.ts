/** RFC 8441 both roles in Deno, with @streamsocket/node's serveHttp2/connectHttp2 on Deno's node:http2. */
import { http2CompatSuite } from '../../devtools/testkit/http2-suite.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inDeno, makeCerts } from './sides.js';

if (inDeno) {
  const certs = makeCerts();
  http2CompatSuite('deno: WebSockets over HTTP/2 through node:http2', () => certs);
} else {
  skipOutside('Deno', 'http2-compat.test.ts');
}
