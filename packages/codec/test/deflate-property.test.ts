// Property tests for permessage-deflate (fast-check): any agreement, any sequence of messages (random bytes,
// repetitive text, empty), any split of each compressed message into frames, compressed by one end and inflated
// by the other, comes back byte for byte, and the negotiators of both ends always agree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { PerMessageDeflate, deflateAvailable, loadZlib, permessageDeflate, type DeflateAgreement, type DeflateOptions } from '../src/index.js';

// Registered as skipped where node:zlib cannot be loaded (browsers), rather than passing without asserting anything.
const zlibOk = deflateAvailable || (await loadZlib());

const bits = fc.integer({ min: 8, max: 15 });
const agreementArb: fc.Arbitrary<DeflateAgreement> = fc.record({
  serverNoContextTakeover: fc.boolean(), clientNoContextTakeover: fc.boolean(), serverMaxWindowBits: bits, clientMaxWindowBits: bits,
});
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.tuple(fc.stringMatching(/^[a-z{}":, ]{1,40}$/), fc.integer({ min: 1, max: 400 })).map(([s, n]) => new TextEncoder().encode(s.repeat(n))),
  fc.constant(new Uint8Array(0)),
);
/** Cut points (fractions) splitting one compressed message into frames. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 });

function split(b: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((f) => Math.floor(f * b.length)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) { out.push(b.subarray(prev, p)); prev = p; }
  out.push(b.subarray(prev));
  return out;
}

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

(zlibOk ? test : test.skip)('round trip for any agreement, messages and framing, both directions', async () => {
  await fc.assert(
    fc.asyncProperty(agreementArb, fc.array(fc.tuple(payload, cuts, fc.boolean()), { minLength: 1, maxLength: 12 }), async (a, msgs) => {
      const client = new PerMessageDeflate(a, 'client', { maxMessageSize: 1 << 22 });
      const server = new PerMessageDeflate(a, 'server', { maxMessageSize: 1 << 22 });
      try {
        for (const [data, at, toServer] of msgs) {
          const [from, to] = toServer ? [client, server] : [server, client];
          const out: Uint8Array[] = [];
          await to.decompress(split(await from.compress(data), at), out);
          assert.equal(join(out), data);
        }
      } finally {
        client.dispose();
        server.dispose();
      }
    }),
    { numRuns: 60 },
  );
});

const optionsArb: fc.Arbitrary<DeflateOptions> = fc.record({
  serverNoContextTakeover: fc.boolean(), clientNoContextTakeover: fc.boolean(),
  serverMaxWindowBits: bits, clientMaxWindowBits: fc.oneof(bits, fc.constant(true as const)),
}, { requiredKeys: [] });

(zlibOk ? test : test.skip)('negotiation: whenever the server accepts the client\'s offer, both ends hold the same agreement', async () => {
  fc.assert(
    fc.property(optionsArb, optionsArb, (co, so) => {
      const client = permessageDeflate(co);
      const r = permessageDeflate(so).negotiate(client.offer());
      if (r === null) {
        // Only declined when the server caps the client's window and the client did not allow it to.
        assert.ok(typeof so.clientMaxWindowBits === 'number' && so.clientMaxWindowBits < 15);
        return;
      }
      assert.equal(client.confirm(r.response), r.agreement);
      // Every cap both sides asked for is honoured.
      if (co.serverMaxWindowBits !== undefined) assert.ok(r.agreement.serverMaxWindowBits <= co.serverMaxWindowBits);
      if (so.serverMaxWindowBits !== undefined) assert.ok(r.agreement.serverMaxWindowBits <= so.serverMaxWindowBits);
      if (typeof co.clientMaxWindowBits === 'number') assert.ok(r.agreement.clientMaxWindowBits <= co.clientMaxWindowBits);
      if (typeof so.clientMaxWindowBits === 'number') assert.ok(r.agreement.clientMaxWindowBits <= so.clientMaxWindowBits);
      if (co.serverNoContextTakeover || so.serverNoContextTakeover) assert.ok(r.agreement.serverNoContextTakeover);
      if (co.clientNoContextTakeover || so.clientNoContextTakeover) assert.ok(r.agreement.clientNoContextTakeover);
    }),
    { numRuns: 500 },
  );
});

test.run();
