/** Our Node client through squid (HTTP CONNECT, plain and TLS, basic auth) and dante (SOCKS5), ws: and wss:. */
import { proxySuite, type ProxySuiteSpec } from '../../devtools/testkit/proxy-suite.js';
import type { AdapterConnect, AdapterServe } from '../../devtools/testkit/pair-suite.js';
import { connect, createWebSocket, serve, TlsConnectError } from '../src/index.js';

proxySuite({
  name: 'node: our client through real proxies',
  connect: connect as unknown as AdapterConnect,
  serve: serve as unknown as AdapterServe,
  trust: (ca) => ({ ca }),
  serverTls: (cert, key) => ({ tls: { cert, key } }),
  setEnv: (name, value) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  },
  defaultProxy: false,
  tlsError: TlsConnectError,
  createWebSocket: createWebSocket as unknown as ProxySuiteSpec['createWebSocket'],
});
