// The admission policy (who gets into the opening handshake) and the address helpers it uses. Pure logic.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HeaderList } from '@streamsocket/handshake';
import { Admission, DEFAULT_ADMISSION, addressKey, forwardedClient, parseIp, trustTest, type DropReason, type PendingEntry } from '../src/index.js';

const s = suite('admission');

function headers(pairs: Array<[string, string]>): HeaderList {
  const h = new HeaderList();
  for (const [k, v] of pairs) h.append(k, v);
  return h;
}

/** Enters `n` connections from `address`, recording drops by id. */
function fill(a: Admission, address: string, n: number, dropped: Array<[string, DropReason]>, tag = address): PendingEntry[] {
  const out: PendingEntry[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${tag}#${out.length}`;
    out.push(a.enter(address, (r) => dropped.push([id, r])));
  }
  return out;
}

s('defaults: 4096 pending, 1024 per address, no cap on open sessions per address', () => {
  const a = new Admission();
  assert.is(a.maxPending, 4096);
  assert.is(a.maxPendingPerAddress, 1024);
  assert.is(a.maxOpenPerAddress, Infinity);
  assert.equal({ ...DEFAULT_ADMISSION }, { maxPendingHandshakes: 4096, maxPendingHandshakesPerAddress: 1024, maxConnectionsPerAddress: Infinity });
});

s('limits below 1 or not numbers are refused', () => {
  assert.throws(() => new Admission({ maxPendingHandshakes: 0 }), RangeError);
  assert.throws(() => new Admission({ maxPendingHandshakesPerAddress: -1 }), RangeError);
  assert.throws(() => new Admission({ maxConnectionsPerAddress: Number.NaN }), RangeError);
  assert.throws(() => new Admission({ trustedProxies: ['not an address'] }), TypeError);
  assert.throws(() => new Admission({ trustedProxies: ['10.0.0.0/33'] }), TypeError);
});

s('at the global cap the oldest pending handshake is dropped, never the newest', () => {
  const a = new Admission({ maxPendingHandshakes: 3, maxPendingHandshakesPerAddress: 100 });
  const dropped: Array<[string, DropReason]> = [];
  const [e0, e1] = fill(a, '10.0.0.1', 2, dropped, 'a');
  fill(a, '10.0.0.2', 1, dropped, 'b');
  assert.is(a.pending, 3);
  assert.equal(dropped, []);
  a.enter('10.0.0.3', (r) => dropped.push(['c#0', r]));
  assert.equal(dropped, [['a#0', 'evicted']]);
  assert.is(a.pending, 3);
  // A handshake that completes leaves: the next arrival takes its place without dropping anyone.
  a.leave(e1!);
  a.enter('10.0.0.3', (r) => dropped.push(['c#1', r]));
  assert.equal(dropped, [['a#0', 'evicted']]);
  // The next drop is the oldest still pending: b#0 (a#0 dropped, a#1 completed).
  a.enter('10.0.0.4', () => {});
  assert.equal(dropped, [['a#0', 'evicted'], ['b#0', 'evicted']]);
  assert.is(a.stats.evicted, 2);
  assert.is(a.stats.admitted, 6);
  a.leave(e0!); // leaving after being dropped is a no-op
  assert.is(a.pending, 3);
});

s('at an address cap that address\'s own oldest is dropped; other addresses keep theirs', () => {
  const a = new Admission({ maxPendingHandshakes: 100, maxPendingHandshakesPerAddress: 2 });
  const dropped: Array<[string, DropReason]> = [];
  fill(a, '192.0.2.9', 1, dropped, 'other');
  fill(a, '192.0.2.1', 5, dropped, 'flood');
  assert.equal(dropped, [['flood#0', 'evicted-per-address'], ['flood#1', 'evicted-per-address'], ['flood#2', 'evicted-per-address']]);
  assert.equal(a.countsOf('192.0.2.1'), { pending: 2, open: 0 });
  assert.equal(a.countsOf('192.0.2.9'), { pending: 1, open: 0 });
  assert.is(a.stats.evictedPerAddress, 3);
  assert.is(a.pending, 3);
});

s('a flood cycling through the cap never displaces a handshake that completes within its round trip', () => {
  const a = new Admission({ maxPendingHandshakes: 50, maxPendingHandshakesPerAddress: 50 });
  let goodDropped = 0;
  let served = 0;
  for (let round = 0; round < 1000; round++) {
    // 40 attacker sockets arrive for every real client, who completes before the next 40 arrive.
    for (let i = 0; i < 40; i++) a.enter(`198.51.100.${i % 7}`, () => {});
    const good = a.enter('203.0.113.5', () => goodDropped++);
    for (let i = 0; i < 40; i++) a.enter(`198.51.100.${i % 7}`, () => {});
    a.leave(good);
    served++;
  }
  assert.is(goodDropped, 0);
  assert.is(served, 1000);
  assert.ok(a.pending <= 50);
});

s('per-address bookkeeping returns to empty', () => {
  const a = new Admission({ maxPendingHandshakes: 10, maxPendingHandshakesPerAddress: 3, maxConnectionsPerAddress: 2 });
  const es: PendingEntry[] = [];
  for (let i = 0; i < 50; i++) es.push(a.enter(`10.1.0.${i % 13}`, () => {}));
  for (const e of es) a.leave(e);
  assert.is(a.pending, 0);
  assert.is(a.addresses, 0, 'no address entry kept');
  assert.ok(a.open('10.1.0.1'));
  assert.ok(a.open('10.1.0.1'));
  assert.not.ok(a.open('10.1.0.1'), 'third session refused');
  assert.is(a.stats.refusedPerAddress, 1);
  a.closed('10.1.0.1');
  a.closed('10.1.0.1');
  assert.is(a.addresses, 0);
});

s('maxConnectionsPerAddress: mayConnect refuses a direct peer at its cap; trusted proxies are not refused by their own address', () => {
  const a = new Admission({ maxConnectionsPerAddress: 1, trustedProxies: ['127.0.0.1'] });
  assert.ok(a.mayConnect('10.0.0.1'));
  assert.ok(a.open('10.0.0.1'));
  assert.not.ok(a.mayConnect('10.0.0.1'));
  assert.ok(a.mayConnect('10.0.0.2'));
  assert.ok(a.open('127.0.0.1'));
  assert.ok(a.mayConnect('127.0.0.1'), 'a proxy is judged by the clients it reports');
  assert.is(a.stats.refusedPerAddress, 1);
});

s('trusted proxies are exempt from the per-address pending cap', () => {
  const a = new Admission({ maxPendingHandshakes: 100, maxPendingHandshakesPerAddress: 2, trustedProxies: ['127.0.0.0/8'] });
  let drops = 0;
  for (let i = 0; i < 20; i++) a.enter('127.0.0.1', () => drops++);
  assert.is(drops, 0);
  for (let i = 0; i < 3; i++) a.enter('10.9.9.9', () => drops++);
  assert.is(drops, 1);
});

s('addressKey: IPv4, IPv4-mapped IPv6 folded, IPv6 keyed by /64, non-IPs as they are', () => {
  assert.is(addressKey('127.0.0.2'), '127.0.0.2');
  assert.is(addressKey('::ffff:127.0.0.2'), '127.0.0.2');
  assert.is(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.is(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.is(addressKey('::1'), '0:0:0:0::/64');
  assert.is(addressKey('[2001:db8::1]'), '2001:db8:0:0::/64');
  assert.is(addressKey('/run/app.sock'), '/run/app.sock');
  assert.is(addressKey(''), '');
});

s('parseIp: both families, compressed forms, embedded IPv4, zones; garbage is null', () => {
  assert.equal([...parseIp('10.0.0.255')!], [10, 0, 0, 255]);
  assert.equal([...parseIp('::')!], new Array(16).fill(0));
  assert.equal([...parseIp('1::')!].slice(0, 2), [0, 1]);
  assert.equal([...parseIp('::ffff:1.2.3.4')!].slice(10), [255, 255, 1, 2, 3, 4]);
  assert.ok(parseIp('fe80::1%eth0'));
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', '::1::2', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7', 'localhost', '', '01234::']) {
    assert.is(parseIp(bad), null, bad);
  }
});

s('trustTest: addresses and CIDR ranges in both families, mapped IPv4, predicates', () => {
  const t = trustTest(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1', '::ffff:172.16.0.0/108']);
  assert.ok(t('10.200.3.4'));
  assert.ok(t('::ffff:10.1.1.1'));
  assert.ok(t('192.168.1.7'));
  assert.not.ok(t('192.168.1.8'));
  assert.ok(t('fd12:3456::1'));
  assert.not.ok(t('fe80::1'));
  assert.ok(t('::1'));
  assert.ok(t('172.16.3.3'));
  assert.not.ok(t('172.32.0.1'));
  assert.not.ok(t('not-an-ip'));
  assert.not.ok(trustTest(undefined)('127.0.0.1'));
  assert.not.ok(trustTest([])('127.0.0.1'));
  assert.ok(trustTest((a) => a === 'x')('x'));
});

s('forwardedClient: the rightmost hop that is not a trusted proxy', () => {
  const trusted = trustTest(['10.0.0.0/8']);
  const peer = '10.0.0.1';
  assert.is(forwardedClient(peer, headers([['X-Forwarded-For', '203.0.113.9']]), trusted), '203.0.113.9');
  // Hops left of the first untrusted one were written by the client: ignored (a spoofed 1.1.1.1 changes nothing).
  assert.is(forwardedClient(peer, headers([['X-Forwarded-For', '1.1.1.1, 203.0.113.9, 10.0.0.7']]), trusted), '203.0.113.9');
  assert.is(forwardedClient(peer, headers([['X-Forwarded-For', '1.1.1.1'], ['X-Forwarded-For', '203.0.113.9:5555']]), trusted), '203.0.113.9');
  assert.is(forwardedClient(peer, headers([['X-Forwarded-For', '10.0.0.5, 10.0.0.6']]), trusted), '10.0.0.5', 'only trusted hops: the leftmost');
  assert.is(forwardedClient(peer, headers([]), trusted), peer, 'no header: the peer');
  // Forwarded (RFC 7239) wins over X-Forwarded-For; quoted, bracketed, with ports.
  assert.is(forwardedClient(peer, headers([['X-Forwarded-For', '198.51.100.1'], ['Forwarded', 'for=192.0.2.60;proto=http;by=203.0.113.43']]), trusted), '192.0.2.60');
  assert.is(forwardedClient(peer, headers([['Forwarded', 'for="[2001:db8:cafe::17]:4711", for=10.0.0.9']]), trusted), '2001:db8:cafe::17');
  assert.is(forwardedClient(peer, headers([['Forwarded', 'for="192.0.2.43:47011"']]), trusted), '192.0.2.43');
  assert.is(forwardedClient(peer, headers([['Forwarded', 'For=unknown']]), trusted), 'unknown');
  assert.is(forwardedClient(peer, headers([['Forwarded', 'proto=https']]), trusted), peer, 'no for=: the proxy itself');
});

s('clientAddress reads the headers only from trusted proxies', () => {
  const h = headers([['X-Forwarded-For', '203.0.113.9']]);
  assert.is(new Admission().clientAddress('198.51.100.1', h), '198.51.100.1', 'no trusted proxies: headers ignored');
  const a = new Admission({ trustedProxies: ['127.0.0.1'] });
  assert.is(a.clientAddress('198.51.100.1', h), '198.51.100.1', 'untrusted peer: headers ignored');
  assert.is(a.clientAddress('127.0.0.1', h), '203.0.113.9');
  assert.is(a.clientAddress('::ffff:127.0.0.1', h), '203.0.113.9');
  assert.is(a.clientAddress('127.0.0.1', undefined), '127.0.0.1');
});

s.run();
