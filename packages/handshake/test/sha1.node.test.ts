// Cross-checks the pure-JS SHA-1 against node:crypto for every length around the block boundaries.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha1 } from '../src/index.js';
import { hex } from './_util.js';

test('sha1 matches node:crypto for lengths 0..300 of pseudo-random bytes', () => {
  let seed = 12345;
  for (let n = 0; n <= 300; n++) {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    assert.is(hex(sha1(data)), createHash('sha1').update(data).digest('hex'), `length ${n}`);
  }
});

test.run();
