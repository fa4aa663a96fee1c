/** Our Deno client through squid (HTTP CONNECT, plain and TLS, basic auth) and dante (SOCKS5), ws: and wss:. */
import { proxySuite, type ProxySuiteSpec } from '../../devtools/testkit/proxy-suite.js';
import { skipOutside, type AdapterConnect, type AdapterServe } from '../../devtools/testkit/pair-suite.js';
import { connect, createWebSocket, serve, TlsConnectError } from '../src/index.js';
import { inDeno } from './sides.js';

if (inDeno) {
  proxySuite({
    name: 'deno: our client through real proxies',
    connect: connect as unknown as AdapterConnect,
    serve: serve as unknown as AdapterServe,
    trust: (ca) => ({ ca }),
    serverTls: (cert, key) => ({ tls: { cert, key } }),
    setEnv: (name, value) => {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    },
    defaultProxy: 'env',
    tlsError: TlsConnectError,
    createWebSocket: createWebSocket as unknown as ProxySuiteSpec['createWebSocket'],
  });
} else {
  skipOutside('Deno', 'proxy.test.ts');
}
