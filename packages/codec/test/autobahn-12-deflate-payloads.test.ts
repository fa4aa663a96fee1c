// Autobahn TestSuite group 12 style (permessage-deflate, different payloads): the default offer, five payload
// kinds, message sizes 16 B .. 128 KiB, unfragmented and fragmented at 256 bytes, echoed end to end through the
// codec's streams (see _autobahn-deflate.ts for the driver and the scaled-down message counts).
import { test } from 'uvu';
import { FRAGMENTS, SIZES, echo, htmlCorpus, imageCorpus, jsonCorpus, messageCount, negotiate, pdfCorpus, proseCorpus, slices, zlibHere } from './_autobahn-deflate.js';

// Tests that need node:zlib are registered as skipped where it cannot be loaded (browsers), rather than passing
// without asserting anything; the declined-offer path is what those runtimes test instead.
const zlibOk = await zlibHere();

const CORPUS = 256 * 1024;
const kinds = [
  ['12.1 large JSON (text)', () => jsonCorpus(CORPUS)],
  ['12.2 image-like (binary)', () => imageCorpus(CORPUS)],
  ['12.3 human-readable text', () => proseCorpus(CORPUS)],
  ['12.4 large HTML (text)', () => htmlCorpus(CORPUS)],
  ['12.5 PDF-like (binary)', () => pdfCorpus(CORPUS)],
] as const;

kinds.forEach(([name, make], k) => {
  (zlibOk ? test : test.skip)(`${name}: ${SIZES.length} sizes x ${FRAGMENTS.length} fragmentations`, async () => {
    const corpus = make();
    // Autobahn's offer for group 12: "permessage-deflate" with client_max_window_bits allowed (context takeover).
    const a = negotiate([{ client_max_window_bits: true }], {});
    let seed = k;
    for (const size of SIZES) for (const fragmentSize of FRAGMENTS) {
      await echo(slices(corpus, size, messageCount(size)), a, fragmentSize, seed++);
    }
  });
});

test.run();
