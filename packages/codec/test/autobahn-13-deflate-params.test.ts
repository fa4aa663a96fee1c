// Autobahn TestSuite group 13 style (permessage-deflate, different parameters): the client offers of cases
// 13.1-13.7 — (client_no_context_takeover, client_max_window_bits) = (F,-) (T,-) (F,8) (F,15) (T,8) (T,15) and
// the three offers [(T,8), (T,-), (F,-)] — each with JSON text messages of 16 B .. 128 KiB, unfragmented and
// fragmented at 256 bytes, echoed end to end through the codec's streams; plus the server-parameter variants
// (server_no_context_takeover, server_max_window_bits 8..15) that Autobahn's client mode exercises.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExtensionParams } from '@streamsocket/handshake';
import type { DeflateOptions } from '../src/index.js';
import { FRAGMENTS, SIZES, echo, jsonCorpus, messageCount, negotiate, slices, zlibHere } from './_autobahn-deflate.js';

// Tests that need node:zlib are registered as skipped where it cannot be loaded (browsers), rather than passing
// without asserting anything; the declined-offer path is what those runtimes test instead.
const zlibOk = await zlibHere();

const corpus = jsonCorpus(256 * 1024);

function offer(noContext: boolean, bits: number | undefined): { params: ExtensionParams; options: DeflateOptions } {
  const params: ExtensionParams = { client_max_window_bits: bits === undefined ? true : String(bits) };
  if (noContext) params['client_no_context_takeover'] = true;
  return { params, options: { clientNoContextTakeover: noContext, ...(bits === undefined ? {} : { clientMaxWindowBits: bits }) } };
}

const cases: Array<[string, Array<ReturnType<typeof offer>>, Partial<Record<'cnct' | 'bits', boolean | number>>]> = [
  ['13.1 (F,-)', [offer(false, undefined)], { cnct: false, bits: 15 }],
  ['13.2 (T,-)', [offer(true, undefined)], { cnct: true, bits: 15 }],
  ['13.3 (F,8)', [offer(false, 8)], { cnct: false, bits: 8 }],
  ['13.4 (F,15)', [offer(false, 15)], { cnct: false, bits: 15 }],
  ['13.5 (T,8)', [offer(true, 8)], { cnct: true, bits: 8 }],
  ['13.6 (T,15)', [offer(true, 15)], { cnct: true, bits: 15 }],
  ['13.7 [(T,8),(T,-),(F,-)]', [offer(true, 8), offer(true, undefined), offer(false, undefined)], { cnct: true, bits: 8 }],
];

cases.forEach(([name, offers, want], k) => {
  (zlibOk ? test : test.skip)(`${name}: ${SIZES.length} sizes x ${FRAGMENTS.length} fragmentations`, async () => {
    const a = negotiate(offers.map((o) => o.params), offers[0]!.options);
    assert.is(a.server.clientNoContextTakeover, want.cnct);
    assert.is(a.server.clientMaxWindowBits, want.bits);
    let seed = k * 31;
    for (const size of SIZES) for (const fragmentSize of FRAGMENTS) {
      await echo(slices(corpus, size, messageCount(size)), a, fragmentSize, seed++);
    }
  });
});

(zlibOk ? test : test.skip)('13.x server parameters: server_no_context_takeover and server_max_window_bits 8..15', async () => {
  for (let bits = 8; bits <= 15; bits++) for (const snct of [false, true]) {
    const params: ExtensionParams = { server_max_window_bits: String(bits), client_max_window_bits: true };
    if (snct) params['server_no_context_takeover'] = true;
    const a = negotiate([params], { serverMaxWindowBits: bits, serverNoContextTakeover: snct });
    assert.is(a.server.serverMaxWindowBits, bits);
    for (const size of [16, 1024, 65536]) await echo(slices(corpus, size, 10), a, undefined, bits);
  }
});

test.run();
