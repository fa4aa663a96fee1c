/**
 * SHA-1 (FIPS 180-4) in plain JavaScript, synchronous.
 *
 * Why not WebCrypto: `crypto.subtle.digest` is asynchronous, and the accept
 * value sits on the hot path of every handshake, which we keep synchronous
 * (parse -> validate -> respond in one turn, no extra microtask/await points).
 * Why not node:crypto: this package must bundle for browsers and behave
 * byte-identically in Node, Deno, Bun and browsers. The input is ~60 bytes
 * (two blocks), so a pure-JS digest costs on the order of a microsecond.
 * SHA-1 is used here only because RFC 6455 mandates it; it provides no security.
 */
// Scratch space reused across calls: sha1 is synchronous and never re-entered.
const W = new Int32Array(80);
const STATE = new Int32Array(5);

export function sha1(data: Uint8Array): Uint8Array {
  const state = STATE;
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  state[4] = 0xc3d2e1f0 | 0;
  const w = W;
  const len = data.length;
  const full = len - (len % 64);
  for (let off = 0; off < full; off += 64) compress(state, w, data, off);

  // Final block(s): remaining bytes, 0x80, zero padding, 64-bit big-endian bit length.
  const rem = len - full;
  const tail = new Uint8Array(rem < 56 ? 64 : 128);
  tail.set(data.subarray(full));
  tail[rem] = 0x80;
  const hi = Math.floor(len / 0x20000000); // bits above 2^32 of len*8
  const lo = (len * 8) >>> 0;
  const t = tail.length;
  tail[t - 8] = hi >>> 24;
  tail[t - 7] = hi >>> 16;
  tail[t - 6] = hi >>> 8;
  tail[t - 5] = hi;
  tail[t - 4] = lo >>> 24;
  tail[t - 3] = lo >>> 16;
  tail[t - 2] = lo >>> 8;
  tail[t - 1] = lo;
  for (let off = 0; off < t; off += 64) compress(state, w, tail, off);

  const out = new Uint8Array(20);
  for (let i = 0; i < 5; i++) {
    const v = state[i]!;
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
  return out;
}

function compress(state: Int32Array, w: Int32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    w[i] = (b[j]! << 24) | (b[j + 1]! << 16) | (b[j + 2]! << 8) | b[j + 3]!;
  }
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = state[0]!;
  let bb = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  for (let i = 0; i < 80; i++) {
    let f: number;
    let k: number;
    if (i < 20) {
      f = (bb & c) | (~bb & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = bb ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (bb & c) | (bb & d) | (c & d);
      k = 0x8f1bbcdc | 0;
    } else {
      f = bb ^ c ^ d;
      k = 0xca62c1d6 | 0;
    }
    const tmp = (((a << 5) | (a >>> 27)) + f + e + k + w[i]!) | 0;
    e = d;
    d = c;
    c = (bb << 30) | (bb >>> 2);
    bb = a;
    a = tmp;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + bb) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
}
