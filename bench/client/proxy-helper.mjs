// The squid of the proxy tests (packages/devtools/testkit/proxies.ts), for the proxy row: HTTP CONNECT with basic
// authentication on 127.0.0.1, allowed to reach loopback only.
export { startSquid, withCredentials } from '../../packages/devtools/testkit/proxies.ts';
