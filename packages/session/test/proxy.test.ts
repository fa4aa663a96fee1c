// Proxy selection (option, environment, NO_PROXY) and the tunnel protocols' edge cases, against scripted peers.
// The adapters' suites run the same code through real squid and dante.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  httpConnect, matchesNoProxy, parseIPv4, parseIPv6, parseProxyUrl, proxyUrlFromEnv, resolveProxy, socks5Connect, validateProxyOption,
  ProxyError, type TunnelIO,
} from '../src/index.js';

const s = suite('proxy');
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A scripted peer: answers each write with the next reply (chunks), records what was written. */
function scripted(replies: Array<Uint8Array[] | null>): TunnelIO & { written: Uint8Array[] } {
  const written: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  let eof = false;
  return {
    written,
    write(b) {
      written.push(b.slice());
      const r = replies.shift();
      if (r === null) eof = true;
      else if (r) pending.push(...r);
    },
    async read() {
      if (pending.length) return pending.shift()!;
      if (eof || replies.length === 0) return null;
      return null;
    },
    release() {
      pending = [];
    },
  };
}

const env = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];
const u = (x: string): URL => new URL(x);

s('NO_PROXY: names and subdomains, leading dot and *., ports, IPs, CIDR, *', () => {
  const t = u('ws://api.example.com:8080/');
  for (const rule of ['example.com', '.example.com', '*.example.com', 'EXAMPLE.com.', 'api.example.com', 'api.example.com:8080', 'x, example.com']) {
    assert.ok(matchesNoProxy(rule, t), rule);
  }
  for (const rule of ['ample.com', 'other.com', 'api.example.com:8081', 'example.co', '']) assert.not.ok(matchesNoProxy(rule, t), rule);
  assert.ok(matchesNoProxy('*', t));
  assert.ok(matchesNoProxy('example.com', u('wss://example.com/')));
  assert.ok(matchesNoProxy('example.com:443', u('wss://example.com/')), 'default port of wss: is 443');
  assert.not.ok(matchesNoProxy('example.com:80', u('wss://example.com/')));
  assert.ok(matchesNoProxy('127.0.0.1', u('ws://127.0.0.1:9/')));
  assert.ok(matchesNoProxy('10.0.0.0/8', u('ws://10.1.2.3/')));
  assert.not.ok(matchesNoProxy('10.0.0.0/8', u('ws://11.1.2.3/')));
  assert.ok(matchesNoProxy('::1', u('ws://[::1]:9/')));
  assert.ok(matchesNoProxy('[::1]:9', u('ws://[::1]:9/')));
  assert.not.ok(matchesNoProxy('[::1]:10', u('ws://[::1]:9/')));
  assert.ok(matchesNoProxy('fd00::/8', u('ws://[fd12::5]/')));
  // No DNS: a name never matches an address rule, nor an address a name rule.
  assert.not.ok(matchesNoProxy('127.0.0.1', u('ws://localhost/')));
  assert.not.ok(matchesNoProxy('0.0.1', u('ws://127.0.0.1/')));
});

s('environment: scheme-specific variable, lower case first, ALL_PROXY fallback, no HTTP_PROXY for wss:', () => {
  assert.is(proxyUrlFromEnv(u('ws://a/'), env({ HTTP_PROXY: 'http://up:1', http_proxy: 'http://low:1' })), 'http://low:1');
  assert.is(proxyUrlFromEnv(u('ws://a/'), env({ HTTP_PROXY: 'http://up:1' })), 'http://up:1');
  assert.is(proxyUrlFromEnv(u('wss://a/'), env({ HTTP_PROXY: 'http://up:1' })), null);
  assert.is(proxyUrlFromEnv(u('wss://a/'), env({ HTTPS_PROXY: 'http://s:1', ALL_PROXY: 'socks5://all:1' })), 'http://s:1');
  assert.is(proxyUrlFromEnv(u('wss://a/'), env({ ALL_PROXY: 'socks5://all:1' })), 'socks5://all:1');
  assert.is(proxyUrlFromEnv(u('ws://a/'), env({ http_proxy: '' , all_proxy: 'http://all:1' })), 'http://all:1');
  assert.is(proxyUrlFromEnv(u('ws://a.b/'), env({ http_proxy: 'http://p:1', NO_PROXY: 'b' })), null);
  assert.is(proxyUrlFromEnv(u('ws://a.b/'), env({ http_proxy: 'http://p:1', no_proxy: 'c', NO_PROXY: 'b' })), 'http://p:1');
});

s('resolveProxy: option beats default; false and env; noProxy on an explicit proxy', () => {
  const e = env({ http_proxy: 'http://envp:3128' });
  assert.is(resolveProxy(u('ws://a/'), undefined, e, false), null);
  assert.is(resolveProxy(u('ws://a/'), undefined, e, 'env')?.hostname, 'envp');
  assert.is(resolveProxy(u('ws://a/'), false, e, 'env'), null);
  assert.is(resolveProxy(u('ws://a/'), 'socks5h://s', e, 'env')?.port, 1080);
  assert.is(resolveProxy(u('ws://a.internal/'), { url: 'http://p:1', noProxy: '.internal' }, e), null);
  const p = resolveProxy(u('ws://a/'), { url: 'http://us%20er:p%3Ass@[::1]:8080', headers: { 'X-Token': 't' } }, e)!;
  assert.equal([p.scheme, p.hostname, p.port, p.username, p.password, p.display], ['http:', '::1', 8080, 'us er', 'p:ss', 'http://[::1]:8080']);
  assert.equal(p.headers, [['X-Token', 't']]);
  assert.is(parseProxyUrl('proxy.corp:3128').scheme, 'http:', 'no scheme means http (curl)');
});

s('bad proxy options throw TypeError naming the problem', () => {
  assert.throws(() => validateProxyOption('ftp://x'), /unsupported proxy scheme ftp:/);
  assert.throws(() => validateProxyOption('socks4://x'), /unsupported proxy scheme/);
  assert.throws(() => validateProxyOption({ url: 'http://x', headers: { 'Bad Name': 'v' } }), /invalid proxy header name/);
  assert.throws(() => validateProxyOption({ url: 'http://x', headers: { X: 'a\r\nb' } }), /invalid value/);
  validateProxyOption('env');
  validateProxyOption(false);
});

s('IP literals', () => {
  assert.equal([...parseIPv4('10.0.255.1')!], [10, 0, 255, 1]);
  assert.is(parseIPv4('256.0.0.1'), null);
  assert.equal([...parseIPv6('::1')!], [...new Array(15).fill(0), 1]);
  assert.equal([...parseIPv6('::ffff:1.2.3.4')!].slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  assert.is(parseIPv6('1::2::3'), null);
  assert.is(parseIPv6('localhost'), null);
});

const http = parseProxyUrl('http://alice:s%C3%A9same@127.0.0.1:3128');
const target = { hostname: '::1', port: 9001 };

s('HTTP CONNECT: request line, Host, basic credentials (UTF-8), a 200 split across chunks', async () => {
  const io = scripted([[enc.encode('HTTP/1.1 200 Conn'), enc.encode('ection established\r\n\r\n')]]);
  await httpConnect(io, http, target);
  const req = dec.decode(io.written[0]);
  assert.ok(req.startsWith('CONNECT [::1]:9001 HTTP/1.1\r\nHost: [::1]:9001\r\n'), req);
  const b64 = /Proxy-Authorization: Basic (\S+)\r\n/.exec(req)![1]!;
  assert.is(dec.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), 'alice:sésame');
  assert.ok(req.endsWith('\r\n\r\n'));
});

s('HTTP CONNECT refusals: 407 with challenge, 403, 502 (target hop), garbage, EOF, bytes past the 200', async () => {
  const fail = async (reply: Array<Uint8Array[] | null>): Promise<ProxyError> => {
    try {
      await httpConnect(scripted(reply), http, target);
    } catch (e) {
      assert.instance(e, ProxyError);
      return e as ProxyError;
    }
    throw new Error('expected a ProxyError');
  };
  const e407 = await fail([[enc.encode('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\n\r\n')]]);
  assert.equal([e407.code, e407.hop, e407.status], ['PROXY_AUTH_REQUIRED', 'proxy', 407]);
  assert.match(e407.message, /Basic realm="x"/);
  const e403 = await fail([[enc.encode('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')]]);
  assert.equal([e403.code, e403.hop, e403.status], ['PROXY_REFUSED', 'proxy', 403]);
  const e502 = await fail([[enc.encode('HTTP/1.1 502 Bad Gateway\r\n\r\n')]]);
  assert.equal([e502.hop, e502.status], ['target', 502]);
  assert.match(e502.message, /could not reach \[::1\]:9001/);
  assert.is((await fail([[enc.encode('SSH-2.0-OpenSSH\r\n\r\n')]])).code, 'PROXY_PROTOCOL');
  assert.is((await fail([null])).code, 'PROXY_CLOSED');
  assert.is((await fail([[enc.encode('HTTP/1.1 200 OK\r\n\r\nextra')]])).code, 'PROXY_PROTOCOL');
});

const socks = parseProxyUrl('socks5://bob:pw@127.0.0.1:1080');

s('SOCKS5: method selection, RFC 1929 auth, CONNECT by name / IPv4 / IPv6, reply with each address type', async () => {
  const ok = (atyp: number, addr: number[]): Uint8Array => Uint8Array.of(5, 0, 0, atyp, ...addr, 0x1f, 0x90);
  for (const [host, expectAddr] of [
    ['example.com', [3, 11, ...enc.encode('example.com')]],
    ['10.1.2.3', [1, 10, 1, 2, 3]],
    ['::1', [4, ...new Array(15).fill(0), 1]],
  ] as const) {
    const io = scripted([[Uint8Array.of(5, 2)], [Uint8Array.of(1, 0)], [ok(3, [4, ...enc.encode('host')]).subarray(0, 5), ok(3, [4, ...enc.encode('host')]).subarray(5)]]);
    await socks5Connect(io, socks, { hostname: host, port: 443 });
    assert.equal([...io.written[0]!], [5, 2, 0, 2]);
    assert.equal([...io.written[1]!], [1, 3, ...enc.encode('bob'), 2, ...enc.encode('pw')]);
    assert.equal([...io.written[2]!], [5, 1, 0, ...expectAddr, 1, 187]);
  }
  // Without credentials only "no authentication" is offered.
  const anon = scripted([[Uint8Array.of(5, 0)], [ok(1, [127, 0, 0, 1])]]);
  await socks5Connect(anon, parseProxyUrl('socks5://127.0.0.1'), { hostname: '127.0.0.1', port: 80 });
  assert.equal([...anon.written[0]!], [5, 1, 0]);
});

s('SOCKS5 failures: no acceptable method, auth rejected, each reply code, wrong version, EOF', async () => {
  const fail = async (p: typeof socks, reply: Array<Uint8Array[] | null>): Promise<ProxyError> => {
    try {
      await socks5Connect(scripted(reply), p, target);
    } catch (e) {
      assert.instance(e, ProxyError);
      return e as ProxyError;
    }
    throw new Error('expected a ProxyError');
  };
  const anon = parseProxyUrl('socks5://127.0.0.1:1080');
  const none = await fail(anon, [[Uint8Array.of(5, 0xff)]]);
  assert.equal([none.code, none.hop], ['PROXY_AUTH_REQUIRED', 'proxy']);
  assert.match(none.message, /username and password/);
  const bad = await fail(socks, [[Uint8Array.of(5, 2)], [Uint8Array.of(1, 1)]]);
  assert.equal([bad.code, bad.socksReply], ['PROXY_AUTH_FAILED', 1]);
  for (const [rep, hop] of [[1, 'proxy'], [2, 'proxy'], [3, 'target'], [4, 'target'], [5, 'target'], [6, 'target'], [7, 'proxy'], [8, 'proxy']] as const) {
    const e = await fail(anon, [[Uint8Array.of(5, 0)], [Uint8Array.of(5, rep, 0, 1, 0, 0, 0, 0, 0, 0)]]);
    assert.equal([e.code, e.socksReply, e.hop], ['PROXY_REFUSED', rep, hop]);
  }
  assert.is((await fail(anon, [[Uint8Array.of(4, 0)]])).code, 'PROXY_PROTOCOL');
  assert.is((await fail(anon, [[Uint8Array.of(5, 2)]])).code, 'PROXY_PROTOCOL', 'chose a method not offered');
  assert.is((await fail(anon, [null])).code, 'PROXY_CLOSED');
  assert.is((await fail(anon, [[Uint8Array.of(5, 0)], [Uint8Array.of(5, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9)]])).code, 'PROXY_PROTOCOL', 'bytes past the reply');
});

s.run();
