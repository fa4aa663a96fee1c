/**
 * Mutators: small structural edits of a valid input. Most bugs sit one edit away from a valid input (a flipped
 * length bit, a header cut short), where pure random bytes rarely go.
 */
import type { Rng } from './rng.js';
import { concatBytes } from './bytes.js';

export type Mutator = (b: Uint8Array, rng: Rng) => Uint8Array;

const flipBit: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const c = b.slice();
  const i = rng.int(c.length);
  c[i] = c[i]! ^ (1 << rng.int(8));
  return c;
};
const setByte: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const c = b.slice();
  c[rng.int(c.length)] = rng.pick([0x00, 0x7f, 0x80, 0xff, 0x7e, 0x7d, 0x0d, 0x0a, rng.int(256)]);
  return c;
};
const truncate: Mutator = (b, rng) => b.slice(0, rng.int(b.length + 1));
const dropRange: Mutator = (b, rng) => {
  const i = rng.int(b.length + 1);
  const j = Math.min(b.length, i + 1 + rng.int(16));
  return concatBytes([b.subarray(0, i), b.subarray(j)]);
};
const insertRandom: Mutator = (b, rng) => {
  const i = rng.int(b.length + 1);
  return concatBytes([b.subarray(0, i), rng.bytes(1 + rng.int(8)), b.subarray(i)]);
};
const duplicateRange: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const i = rng.int(b.length);
  const j = Math.min(b.length, i + 1 + rng.int(64));
  const times = 1 + rng.int(4);
  const rep: Uint8Array[] = [];
  for (let k = 0; k < times; k++) rep.push(b.subarray(i, j));
  return concatBytes([b.subarray(0, j), ...rep, b.subarray(j)]);
};

export const MUTATORS: readonly Mutator[] = [flipBit, setByte, truncate, dropRange, insertRandom, duplicateRange];

/** Applies 1..maxEdits random byte-level mutations. */
export function mutate(b: Uint8Array, rng: Rng, maxEdits = 3): Uint8Array {
  let out = b;
  const n = 1 + rng.int(maxEdits);
  for (let i = 0; i < n; i++) out = rng.pick(MUTATORS)(out, rng);
  return out;
}

// ---- HTTP head mutators (line-aware) ----

const enc = new TextEncoder();
const dec = new TextDecoder('latin1');

function lines(b: Uint8Array): string[] {
  return dec.decode(b).split('\r\n');
}
function join(ls: string[]): Uint8Array {
  // latin1 round trip: every char code < 256 maps back to its byte.
  const s = ls.join('\r\n');
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}
/** Index of a header line (not the start line, not the final empty ones). */
function headerIndex(ls: string[], rng: Rng): number {
  const last = Math.max(1, ls.indexOf(''));
  return 1 + rng.int(Math.max(1, last - 1));
}

const repeatHeader: Mutator = (b, rng) => {
  const ls = lines(b);
  const i = headerIndex(ls, rng);
  const times = rng.pick([1, 2, 50, 120]);
  ls.splice(i, 0, ...new Array<string>(times).fill(ls[i] ?? 'X: y'));
  return join(ls);
};
const oversizeHeader: Mutator = (b, rng) => {
  const ls = lines(b);
  const i = headerIndex(ls, rng);
  ls.splice(i, 0, `X-Big: ${'a'.repeat(rng.pick([100, 4000, 16384, 20000]))}`);
  return join(ls);
};
const controlChar: Mutator = (b, rng) => {
  const ls = lines(b);
  const i = rng.int(Math.max(1, ls.indexOf('')));
  const l = ls[i] ?? '';
  const at = rng.int(l.length + 1);
  const ch = String.fromCharCode(rng.pick([0x00, 0x01, 0x08, 0x09, 0x0b, 0x0c, 0x1b, 0x7f, 0x0d, 0x0a, 0x85, 0xa0, 0xff]));
  ls[i] = l.slice(0, at) + ch + l.slice(at);
  return join(ls);
};
const lineEndings: Mutator = (b, rng) => {
  const s = dec.decode(b);
  const which = rng.int(4);
  let t: string;
  if (which === 0) t = s.replace(/\r\n/g, '\n');
  else if (which === 1) t = s.replace('\r\n', rng.pick(['\n', '\r', '\n\r', '\r\r\n']));
  else if (which === 2) t = s.replace(/\r\n(?=[^\r])/, '\r\n ');
  else t = s.replace('\r\n\r\n', rng.pick(['\r\n\n', '\n\r\n', '\r\n \r\n', '\r\n\r\r\n']));
  return enc.encode(t).length === t.length ? enc.encode(t) : join([t]);
};
const caseAndSpace: Mutator = (b, rng) => {
  const ls = lines(b);
  const i = headerIndex(ls, rng);
  const l = ls[i] ?? '';
  const k = rng.int(4);
  if (k === 0) ls[i] = l.toUpperCase();
  else if (k === 1) ls[i] = l.replace(':', ' :');
  else if (k === 2) ls[i] = l.replace(': ', ':' + ' '.repeat(rng.int(5)) + '\t');
  else ls[i] = l + rng.pick([' ', '\t', ',', ', ,', ';']);
  return join(ls);
};
const dropHeader: Mutator = (b, rng) => {
  const ls = lines(b);
  ls.splice(headerIndex(ls, rng), 1);
  return join(ls);
};
const startLine: Mutator = (b, rng) => {
  const ls = lines(b);
  const l = ls[0] ?? '';
  ls[0] = rng.pick([
    l.replace('HTTP/1.1', 'HTTP/1.0'),
    l.replace('HTTP/1.1', 'HTTP/2'),
    l.replace('GET', 'POST'),
    l.replace(' ', '  '),
    l.replace(/ \S+ /, ' http://a/b ') ,
    l.replace(/ \S+ /, ' * '),
    l.replace('101', '200'),
    l.replace('101', '1011'),
    l + ' extra',
    '',
  ]);
  return join(ls);
};

export const HEAD_MUTATORS: readonly Mutator[] = [
  repeatHeader, oversizeHeader, controlChar, lineEndings, caseAndSpace, dropHeader, startLine,
  flipBit, setByte, truncate, dropRange, insertRandom, duplicateRange,
];

/** Applies 1..maxEdits head-aware or byte-level mutations. */
export function mutateHead(b: Uint8Array, rng: Rng, maxEdits = 3): Uint8Array {
  let out = b;
  const n = 1 + rng.int(maxEdits);
  for (let i = 0; i < n; i++) out = rng.pick(HEAD_MUTATORS)(out, rng);
  return out;
}
