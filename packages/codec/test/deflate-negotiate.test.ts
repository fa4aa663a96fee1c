// permessage-deflate negotiation (RFC 7692 section 7.1): offers, server answers, client confirmation, invalid
// parameters, and the full handshake round trip through @streamsocket/handshake.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HandshakeError, buildClientRequest, parseRequestHead, parseResponseHead, validateRequest, validateResponse,
  buildAcceptResponse, type ExtensionParams,
} from '@streamsocket/handshake';
import { PerMessageDeflate, loadZlib, permessageDeflate, deflateAvailable, type DeflateAgreement } from '../src/deflate/index.js';
import { getZlib, setZlibForTesting } from '../src/deflate/zlib.js';

// Tests that need node:zlib are registered as skipped where it is missing (browsers), rather than passing without
// asserting anything; the declined-offer path is what those runtimes test instead.

const agreement = (s: boolean, c: boolean, sb: number, cb: number): DeflateAgreement =>
  ({ serverNoContextTakeover: s, clientNoContextTakeover: c, serverMaxWindowBits: sb, clientMaxWindowBits: cb });

const offer = suite('offer');
offer.before(() => { if (!deflateAvailable) console.log('(node:zlib missing: negotiation suites check the unavailable path only)'); });

(deflateAvailable ? offer : offer.skip)('default offer advertises client_max_window_bits only', () => {
  assert.equal(permessageDeflate().offer(), [{ client_max_window_bits: true }]);
});

(deflateAvailable ? offer : offer.skip)('offer carries all four parameters', () => {
  const n = permessageDeflate({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 });
  assert.is(n.name, 'permessage-deflate');
  assert.equal(n.offer(), [{ server_no_context_takeover: true, client_no_context_takeover: true, server_max_window_bits: '10', client_max_window_bits: '9' }]);
});

offer('bad options are TypeErrors', () => {
  for (const o of [{ serverMaxWindowBits: 7 }, { serverMaxWindowBits: 16 }, { serverMaxWindowBits: 9.5 }, { clientMaxWindowBits: 0 },
    { level: 10 }, { level: -1 }, { memLevel: 0 }, { memLevel: 10 }, { threshold: -1 }]) {
    assert.throws(() => permessageDeflate(o as never), (e: unknown) => e instanceof TypeError, JSON.stringify(o));
  }
  // `true` is only meaningful for clientMaxWindowBits.
  assert.throws(() => permessageDeflate({ serverMaxWindowBits: true as never }), (e: unknown) => e instanceof TypeError);
  permessageDeflate({ clientMaxWindowBits: true, serverMaxWindowBits: 8, level: 0, memLevel: 1, threshold: 0 });
});
offer.run();

const server = suite('server negotiate');
const answer = (o: Parameters<typeof permessageDeflate>[0], offers: ExtensionParams[]) => permessageDeflate(o).negotiate(offers);

(deflateAvailable ? server : server.skip)('empty offer: defaults, empty response', () => {
  assert.equal(answer({}, [{}]), { response: {}, agreement: agreement(false, false, 15, 15) });
});

(deflateAvailable ? server : server.skip)('echoes server_no_context_takeover and accepts the client_no_context_takeover hint', () => {
  assert.equal(answer({}, [{ server_no_context_takeover: true }]),
    { response: { server_no_context_takeover: true }, agreement: agreement(true, false, 15, 15) });
  assert.equal(answer({}, [{ client_no_context_takeover: true }]),
    { response: { client_no_context_takeover: true }, agreement: agreement(false, true, 15, 15) });
});

(deflateAvailable ? server : server.skip)('server options add no_context_takeover parameters unasked', () => {
  assert.equal(answer({ serverNoContextTakeover: true, clientNoContextTakeover: true }, [{}]),
    { response: { server_no_context_takeover: true, client_no_context_takeover: true }, agreement: agreement(true, true, 15, 15) });
});

(deflateAvailable ? server : server.skip)('server_max_window_bits: min of offer and option, stated in the response', () => {
  for (let offered = 8; offered <= 15; offered++) {
    for (const opt of [undefined, 8, 11, 15]) {
      const r = answer(opt === undefined ? {} : { serverMaxWindowBits: opt }, [{ server_max_window_bits: String(offered) }]);
      const want = Math.min(offered, opt ?? 15);
      assert.equal(r?.response, { server_max_window_bits: String(want) });
      assert.is(r?.agreement.serverMaxWindowBits, want);
    }
  }
  // Not offered, but the server wants a smaller window: it says so (RFC 7692 7.1.2.1).
  assert.equal(answer({ serverMaxWindowBits: 10 }, [{}])?.response, { server_max_window_bits: '10' });
  assert.equal(answer({ serverMaxWindowBits: 15 }, [{}])?.response, {});
});

(deflateAvailable ? server : server.skip)('client_max_window_bits: value from offer and cap', () => {
  assert.equal(answer({}, [{ client_max_window_bits: true }]), { response: {}, agreement: agreement(false, false, 15, 15) });
  assert.equal(answer({ clientMaxWindowBits: true }, [{ client_max_window_bits: true }])?.response, {});
  assert.equal(answer({}, [{ client_max_window_bits: '12' }]), { response: { client_max_window_bits: '12' }, agreement: agreement(false, false, 15, 12) });
  assert.equal(answer({ clientMaxWindowBits: 10 }, [{ client_max_window_bits: true }]),
    { response: { client_max_window_bits: '10' }, agreement: agreement(false, false, 15, 10) });
  assert.equal(answer({ clientMaxWindowBits: 10 }, [{ client_max_window_bits: '9' }])?.response, { client_max_window_bits: '9' });
  assert.equal(answer({ clientMaxWindowBits: 8 }, [{ client_max_window_bits: '12' }])?.agreement.clientMaxWindowBits, 8);
  // A cap the client cannot be told about: decline that offer; a later offer that allows it is accepted.
  assert.is(answer({ clientMaxWindowBits: 10 }, [{}]), null);
  assert.equal(answer({ clientMaxWindowBits: 10 }, [{}, { client_max_window_bits: true }])?.response, { client_max_window_bits: '10' });
  assert.equal(answer({ clientMaxWindowBits: 15 }, [{}])?.response, {});
});

(deflateAvailable ? server : server.skip)('all four parameters at once', () => {
  const r = answer({}, [{ server_no_context_takeover: true, client_no_context_takeover: true, server_max_window_bits: '9', client_max_window_bits: '8' }]);
  assert.equal(r, {
    response: { server_no_context_takeover: true, client_no_context_takeover: true, server_max_window_bits: '9', client_max_window_bits: '8' },
    agreement: agreement(true, true, 9, 8),
  });
});

(deflateAvailable ? server : server.skip)('invalid offers are declined, the next valid one is taken', () => {
  const bad: ExtensionParams[] = [
    { x_unknown: true },
    { server_max_window_bits: true },
    { server_max_window_bits: '7' }, { server_max_window_bits: '16' }, { server_max_window_bits: '08' },
    { server_max_window_bits: '1O' }, { server_max_window_bits: '' }, { server_max_window_bits: ' 9' },
    { client_max_window_bits: '7' }, { client_max_window_bits: '16' }, { client_max_window_bits: 'x' },
    { server_no_context_takeover: 'yes' }, { client_no_context_takeover: '' },
    // A header parser that kept a repeated parameter: duplicates are declined too.
    { server_max_window_bits: ['9', '10'] as never },
    { server_no_context_takeover: 1 as never },
  ];
  for (const p of bad) {
    assert.is(answer({}, [p]), null, JSON.stringify(p));
    assert.equal(answer({}, [p, { server_max_window_bits: '11' }])?.response, { server_max_window_bits: '11' }, JSON.stringify(p));
  }
  assert.is(answer({}, []), null);
});
server.run();

const client = suite('client confirm');
const confirm = (o: Parameters<typeof permessageDeflate>[0], r: ExtensionParams) => permessageDeflate(o).confirm(r);
const rejects = (o: Parameters<typeof permessageDeflate>[0], r: ExtensionParams) =>
  assert.throws(() => confirm(o, r), (e: unknown) => e instanceof HandshakeError && e.code === 'BAD_EXTENSION_RESPONSE' && e.status === 101, JSON.stringify([o, r]));

(deflateAvailable ? client : client.skip)('accepts what the server may say', () => {
  assert.equal(confirm({}, {}), agreement(false, false, 15, 15));
  assert.equal(confirm({}, { server_no_context_takeover: true }), agreement(true, false, 15, 15));
  assert.equal(confirm({}, { client_no_context_takeover: true }), agreement(false, true, 15, 15));
  assert.equal(confirm({}, { server_max_window_bits: '8' }), agreement(false, false, 8, 15));
  assert.equal(confirm({}, { client_max_window_bits: '9' }), agreement(false, false, 15, 9));
  assert.equal(confirm({ serverMaxWindowBits: 12 }, { server_max_window_bits: '12' }), agreement(false, false, 12, 15));
  assert.equal(confirm({ serverMaxWindowBits: 12 }, { server_max_window_bits: '10' }), agreement(false, false, 10, 15));
  assert.equal(confirm({ clientMaxWindowBits: 11 }, {}), agreement(false, false, 15, 11));
  assert.equal(confirm({ clientMaxWindowBits: 11 }, { client_max_window_bits: '10' }), agreement(false, false, 15, 10));
  // Our own promise not to take over context holds even if the server does not repeat it.
  assert.equal(confirm({ clientNoContextTakeover: true }, {}), agreement(false, true, 15, 15));
  assert.equal(confirm({ serverNoContextTakeover: true }, { server_no_context_takeover: true }), agreement(true, false, 15, 15));
});

(deflateAvailable ? client : client.skip)('rejects what the server may not say', () => {
  rejects({}, { x: true });
  rejects({}, { server_max_window_bits: true });
  rejects({}, { client_max_window_bits: true }); // a response must give a value
  rejects({}, { server_max_window_bits: '16' });
  rejects({}, { client_max_window_bits: '7' });
  rejects({}, { server_no_context_takeover: '1' });
  rejects({}, { client_no_context_takeover: ['', ''] as never });
  rejects({ serverNoContextTakeover: true }, {});
  rejects({ serverMaxWindowBits: 10 }, {});
  rejects({ serverMaxWindowBits: 10 }, { server_max_window_bits: '11' });
  rejects({ clientMaxWindowBits: 10 }, { client_max_window_bits: '11' });
});
client.run();

const e2e = suite('through @streamsocket/handshake');

function handshake(clientOpts: Parameters<typeof permessageDeflate>[0], serverOpts: Parameters<typeof permessageDeflate>[0]) {
  const req = buildClientRequest('ws://example.test/chat', { extensions: [permessageDeflate(clientOpts)] });
  const head = parseRequestHead(req.bytes);
  const r = validateRequest(head, { extensions: [permessageDeflate(serverOpts)] });
  if (!r.ok) throw r.error;
  const res = parseResponseHead(buildAcceptResponse(r.handshake));
  const c = validateResponse(req, res);
  return { server: r.handshake.agreements.get('permessage-deflate'), client: c.agreements.get('permessage-deflate'), header: r.handshake.extensions };
}

(deflateAvailable ? e2e : e2e.skip)('both ends agree for every parameter combination', () => {
  const bits = [undefined, 8, 12, 15];
  let n = 0;
  for (const snct of [false, true]) for (const cnct of [false, true]) for (const sb of bits) for (const cb of [...bits, true as const]) {
    for (const srv of [{}, { serverMaxWindowBits: 9, clientMaxWindowBits: 10 }, { serverNoContextTakeover: true }]) {
      const copts = { serverNoContextTakeover: snct, clientNoContextTakeover: cnct, ...(sb ? { serverMaxWindowBits: sb } : {}), ...(cb ? { clientMaxWindowBits: cb } : {}) };
      const r = handshake(copts, srv);
      assert.ok(r.server, JSON.stringify([copts, srv]));
      assert.equal(r.client, r.server, JSON.stringify([copts, srv, r.header]));
      n++;
    }
  }
  assert.is(n, 2 * 2 * 4 * 5 * 3);
});

(deflateAvailable ? e2e : e2e.skip)('the response header states the agreement', () => {
  const r = handshake({ clientMaxWindowBits: true, serverNoContextTakeover: true }, { clientMaxWindowBits: 10, serverMaxWindowBits: 12 });
  assert.match(r.header, /^permessage-deflate/);
  assert.match(r.header, /server_no_context_takeover/);
  assert.match(r.header, /server_max_window_bits=12/);
  assert.match(r.header, /client_max_window_bits=10/);
  assert.equal(r.client, agreement(true, false, 12, 10));
});

e2e('without zlib: nothing offered, everything declined', async () => {
  const saved = getZlib();
  setZlibForTesting(null);
  try {
    const n = permessageDeflate();
    assert.equal(n.offer(), []);
    assert.is(n.negotiate([{}]), null);
    assert.throws(() => n.confirm({}), (e: unknown) => e instanceof HandshakeError);
    const req = buildClientRequest('ws://example.test/', { extensions: [n] });
    const r = validateRequest(parseRequestHead(req.bytes), { extensions: [permessageDeflate()] });
    assert.ok(r.ok && r.handshake.extensions === '');
    assert.throws(() => new PerMessageDeflate(agreement(false, false, 15, 15), 'server', { maxMessageSize: 1 }), /not available/);
    // The dynamic-import fallback finds node:zlib wherever the runtime has it.
    const found = await loadZlib();
    if (saved) assert.ok(found && deflateAvailable && getZlib() !== null);
    assert.is(await loadZlib(), found);
  } finally {
    setZlibForTesting(saved);
  }
});
e2e.run();
