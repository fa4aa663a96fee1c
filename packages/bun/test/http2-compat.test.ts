/** RFC 8441 both roles in Bun, with @streamsocket/node's serveHttp2/connectHttp2 on Bun's node:http2. */
import { http2CompatSuite } from '../../devtools/testkit/http2-suite.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inBun, makeCerts } from './sides.js';

if (inBun) {
  const certs = makeCerts();
  http2CompatSuite('bun: WebSockets over HTTP/2 through node:http2', () => certs);
} else {
  skipOutside('Bun', 'http2-compat.test.ts');
}
