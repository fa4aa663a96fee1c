// permessage-deflate compression (RFC 7692 section 7.2): round trips in every mode, the RFC's worked examples,
// limits, corrupt input, ordering and disposal. Portable: skips itself where node:zlib is missing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PerMessageDeflate, deflateAvailable, type DeflateAgreement } from '../src/deflate/index.js';
import { SYNC_INFLATE_INPUT, SYNC_INFLATE_SLICE } from '../src/deflate/per-message.js';
import { nativeSyncWorks } from '../src/deflate/native-sync.js';
import { getZlib } from '../src/deflate/zlib.js';
import { CodecError } from '../src/errors.js';

// Tests that need node:zlib are registered as skipped where it is missing (browsers), rather than passing without
// asserting anything; the declined-offer path is what those runtimes test instead.

const enc = new TextEncoder();
const dec = new TextDecoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const bytes = (...a: number[]) => new Uint8Array(a);

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

const agreement = (p: Partial<DeflateAgreement> = {}): DeflateAgreement => ({
  serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...p,
});

/** A connected pair: what the client compresses, the server inflates, and the other way round. */
function pair(a: DeflateAgreement, max = 1 << 24, extra: { threshold?: number; level?: number; memLevel?: number } = {}) {
  return {
    client: new PerMessageDeflate(a, 'client', { maxMessageSize: max, ...extra }),
    server: new PerMessageDeflate(a, 'server', { maxMessageSize: max, ...extra }),
  };
}

async function inflate(p: PerMessageDeflate, ...chunks: Uint8Array[]): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  await p.decompress(chunks, out);
  return join(out);
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function noise(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; }
  return b;
}
function text(n: number, seed = 1): Uint8Array {
  const words = ['websocket', 'frame', 'deflate', 'window', 'context', '{"id":', '"type":"msg"', 'takeover', ' ', '\n'];
  const r = noise(n, seed);
  let s = '';
  for (let i = 0; s.length < n; i++) s += words[r[i % n]! % words.length];
  return enc.encode(s.slice(0, n));
}

/** Runs `fn` with the given timeout so no test hangs. */
function bounded<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let t: ReturnType<typeof globalThis.setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => { t = globalThis.setTimeout(() => rej(new Error('timed out')), ms); })])
    .finally(() => globalThis.clearTimeout(t));
}

async function rejectsWith(p: Promise<unknown>, closeCode: number, code: string): Promise<void> {
  try {
    await bounded(p);
  } catch (e) {
    assert.instance(e, CodecError);
    assert.is((e as CodecError).closeCode, closeCode);
    assert.is((e as CodecError).code, code);
    return;
  }
  assert.unreachable(`expected CodecError ${closeCode}`);
}

const rfc = suite('RFC 7692 7.2.3 examples');

(deflateAvailable ? rfc : rfc.skip)('7.2.3.1: "Hello" compresses to f2 48 cd c9 c9 07 00 and back, whole and fragmented', async () => {
  const { client, server } = pair(agreement({ clientNoContextTakeover: true, serverNoContextTakeover: true }), 1 << 20, { threshold: 0 });
  assert.is(hex(await client.compress(enc.encode('Hello'))), 'f2 48 cd c9 c9 07 00');
  assert.is(dec.decode(await inflate(server, bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00))), 'Hello');
  assert.is(dec.decode(await inflate(server, bytes(0xf2, 0x48, 0xcd), bytes(0xc9, 0xc9, 0x07, 0x00))), 'Hello');
  client.dispose(); server.dispose();
});

(deflateAvailable ? rfc : rfc.skip)('7.2.3.2: sharing the LZ77 window: the second "Hello" is f2 00 11 00 00', async () => {
  const { client, server } = pair(agreement());
  assert.is(hex(await client.compress(enc.encode('Hello'))), 'f2 48 cd c9 c9 07 00');
  assert.is(hex(await client.compress(enc.encode('Hello'))), 'f2 00 11 00 00');
  assert.is(dec.decode(await inflate(server, bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00))), 'Hello');
  assert.is(dec.decode(await inflate(server, bytes(0xf2, 0x00, 0x11, 0x00, 0x00))), 'Hello');
  // Without takeover every message is compressed alone.
  const nct = pair(agreement({ clientNoContextTakeover: true }));
  assert.is(hex(await nct.client.compress(enc.encode('Hello'))), 'f2 48 cd c9 c9 07 00');
  assert.is(hex(await nct.client.compress(enc.encode('Hello'))), 'f2 48 cd c9 c9 07 00');
  for (const p of [client, server, nct.client, nct.server]) p.dispose();
});

(deflateAvailable ? rfc : rfc.skip)('7.2.3.3 stored block, 7.2.3.4 BFINAL set, 7.2.3.5 two blocks', async () => {
  for (const a of [agreement(), agreement({ clientNoContextTakeover: true })]) {
    const server = new PerMessageDeflate(a, 'server', { maxMessageSize: 100 });
    assert.is(dec.decode(await inflate(server, bytes(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00))), 'Hello');
    assert.is(dec.decode(await inflate(server, bytes(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00))), 'Hello');
    server.dispose();
  }
  // BFINAL ends the sender's DEFLATE stream: with context takeover the next message starts a new one.
  const keep = new PerMessageDeflate(agreement(), 'server', { maxMessageSize: 100 });
  for (let i = 0; i < 3; i++) {
    assert.is(dec.decode(await inflate(keep, bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00))), 'Hello');
    assert.is(dec.decode(await inflate(keep, bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00))), 'Hello');
    assert.is(dec.decode(await inflate(keep, bytes(0xf2, 0x00, 0x11, 0x00, 0x00))), 'Hello', 'context kept after a fresh start');
  }
  keep.dispose();
  const stateless = new PerMessageDeflate(agreement({ clientNoContextTakeover: true }), 'server', { maxMessageSize: 100 });
  assert.is(dec.decode(await inflate(stateless, bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00))), 'Hello');
  assert.is(dec.decode(await inflate(stateless, bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00))), 'Hello');
  stateless.dispose();
});

(deflateAvailable ? rfc : rfc.skip)('an empty message round-trips', async () => {
  for (const a of [agreement(), agreement({ clientNoContextTakeover: true, serverNoContextTakeover: true })]) {
    const { client, server } = pair(a);
    const c = await client.compress(new Uint8Array(0));
    assert.ok(c.length <= 1, hex(c));
    assert.is((await inflate(server, c)).length, 0);
    assert.is((await inflate(server, bytes(0x00))).length, 0); // 7.2.3.6
    // Several empty messages in a row: with takeover zlib has nothing at all to emit for the later ones.
    for (let i = 0; i < 3; i++) {
      const e = await client.compress(new Uint8Array(0));
      assert.ok(e.length >= 1, 'never an empty payload');
      assert.is((await inflate(server, e)).length, 0);
    }
    assert.is(dec.decode(await inflate(server, await client.compress(enc.encode('after')))), 'after');
    // A peer's empty payload (no block header at all) is an empty message and leaves the context intact.
    assert.is((await inflate(server)).length, 0);
    assert.is((await inflate(server, new Uint8Array(0), new Uint8Array(0))).length, 0);
    assert.is(dec.decode(await inflate(server, await client.compress(enc.encode('after')))), 'after');
    client.dispose(); server.dispose();
  }
});
rfc.run();

const modes = suite('round trips');

(deflateAvailable ? modes : modes.skip)('every takeover combination and window size 8..15, both directions', async () => {
  const sizes = [0, 1, 5, 100, 1000, 5000, 20_000];
  for (const snct of [false, true]) for (const cnct of [false, true]) for (let bits = 8; bits <= 15; bits++) {
    const a = agreement({ serverNoContextTakeover: snct, clientNoContextTakeover: cnct, serverMaxWindowBits: bits, clientMaxWindowBits: 23 - bits });
    const { client, server } = pair(a);
    for (const [from, to] of [[client, server], [server, client]] as const) {
      for (const [i, n] of sizes.entries()) {
        const msg = i % 2 ? text(n, i + bits) : noise(n, i + bits);
        const got = await inflate(to, await from.compress(msg));
        assert.equal(got, msg, `snct=${snct} cnct=${cnct} bits=${bits} size=${n}`);
      }
    }
    client.dispose(); server.dispose();
  }
});

(deflateAvailable ? modes : modes.skip)('context takeover shrinks repeated messages, no takeover does not', async () => {
  const msg = text(2000, 7);
  const keep = pair(agreement());
  const first = (await keep.client.compress(msg)).length;
  const second = (await keep.client.compress(msg)).length;
  assert.ok(second < first / 10, `${second} vs ${first}`);
  const reset = pair(agreement({ clientNoContextTakeover: true }));
  assert.is((await reset.client.compress(msg)).length, (await reset.client.compress(msg)).length);
  for (const p of [keep.client, keep.server, reset.client, reset.server]) p.dispose();
});

(deflateAvailable ? modes : modes.skip)('large messages (stream path) in both modes', async () => {
  for (const a of [agreement(), agreement({ clientNoContextTakeover: true, serverNoContextTakeover: true })]) {
    const { client, server } = pair(a);
    for (const msg of [text(300_000, 3), noise(200_000, 4), new Uint8Array(1 << 20)]) {
      const c = await client.compress(msg);
      // Fragmented into several frames at arbitrary places.
      const parts = [c.subarray(0, 1), c.subarray(1, c.length >> 1), c.subarray(c.length >> 1)];
      assert.equal(await inflate(server, ...parts), msg);
    }
    client.dispose(); server.dispose();
  }
});

(deflateAvailable ? modes : modes.skip)('level and memLevel options still round-trip', async () => {
  for (const level of [0, 1, 9]) for (const memLevel of [1, 9]) {
    const { client, server } = pair(agreement(), 1 << 20, { level, memLevel });
    const msg = text(10_000, level * 10 + memLevel);
    assert.equal(await inflate(server, await client.compress(msg)), msg);
    client.dispose(); server.dispose();
  }
});

(deflateAvailable ? modes : modes.skip)('shouldCompress follows the threshold (default 1024)', () => {
  const d = new PerMessageDeflate(agreement(), 'client', { maxMessageSize: 10 });
  assert.not.ok(d.shouldCompress(1023));
  assert.ok(d.shouldCompress(1024));
  const z = new PerMessageDeflate(agreement(), 'client', { maxMessageSize: 10, threshold: 0 });
  assert.ok(z.shouldCompress(0));
  d.dispose(); z.dispose();
});

(deflateAvailable ? modes : modes.skip)('unordered callers: results come back in call order', async () => {
  for (const a of [agreement(), agreement({ clientNoContextTakeover: true, serverNoContextTakeover: true })]) {
    const { client, server } = pair(a);
    const msgs = Array.from({ length: 40 }, (_, i) => text(i % 5 === 0 ? 100_000 + i : 10 + i * 37, i));
    const compressed = await Promise.all(msgs.map((m) => client.compress(m)));
    const outs = msgs.map(() => [] as Uint8Array[]);
    await Promise.all(compressed.map((c, i) => server.decompress([c], outs[i]!)));
    outs.forEach((o, i) => assert.equal(join(o), msgs[i], `message ${i}`));
    client.dispose(); server.dispose();
  }
});

(deflateAvailable ? modes : modes.skip)('constructor checks its inputs', () => {
  assert.throws(() => new PerMessageDeflate(agreement({ serverMaxWindowBits: 7 }), 'server', { maxMessageSize: 1 }), TypeError);
  assert.throws(() => new PerMessageDeflate(agreement({ clientMaxWindowBits: 16 }), 'server', { maxMessageSize: 1 }), TypeError);
  assert.throws(() => new PerMessageDeflate(agreement(), 'server', { maxMessageSize: -1 }), TypeError);
});
modes.run();

const limits = suite('limits and errors');

(deflateAvailable ? limits : limits.skip)('output exactly at maxMessageSize passes, one byte more is 1009 (every path)', async () => {
  for (const n of [1000, 70_000, 300_000]) for (const a of [agreement(), agreement({ clientNoContextTakeover: true })]) {
    const sender = new PerMessageDeflate(a, 'client', { maxMessageSize: 1 << 30 });
    const msg = text(n, n);
    const c = await sender.compress(msg);
    const ok = new PerMessageDeflate(a, 'server', { maxMessageSize: n });
    assert.equal(await inflate(ok, c), msg);
    const tight = new PerMessageDeflate(a, 'server', { maxMessageSize: n - 1 });
    const out: Uint8Array[] = [];
    await rejectsWith(tight.decompress([c], out), 1009, 'MESSAGE_TOO_BIG');
    assert.is(out.length, 0, 'nothing appended on failure');
    for (const p of [sender, ok, tight]) p.dispose();
  }
});

(deflateAvailable ? limits : limits.skip)('a decompression bomb is refused without being inflated', async () => {
  // 64 MiB of zeros, compressed with context takeover 1 MiB at a time: ~64 KiB on the wire.
  const maker = new PerMessageDeflate(agreement(), 'client', { maxMessageSize: 1 << 30 });
  const zeros = new Uint8Array(1 << 20);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) { parts.push(await maker.compress(zeros)); parts.push(bytes(0, 0, 0xff, 0xff)); }
  parts.pop();
  const bomb = join(parts);
  assert.ok(bomb.length < 200_000, `bomb is ${bomb.length} bytes`);
  for (const a of [agreement(), agreement({ clientNoContextTakeover: true })]) {
    const victim = new PerMessageDeflate(a, 'server', { maxMessageSize: 1 << 20 });
    const t0 = Date.now();
    const out: Uint8Array[] = [];
    await rejectsWith(victim.decompress([bomb], out), 1009, 'MESSAGE_TOO_BIG');
    assert.is(out.length, 0);
    assert.ok(Date.now() - t0 < 2000, 'stopped early');
    victim.dispose();
  }
  maker.dispose();
});

(deflateAvailable ? limits : limits.skip)('corrupt data is 1007; with takeover the context is gone afterwards', async () => {
  const junk = bytes(0xff, 0xff, 0xff, 0x00, 0x12); // BTYPE 11 (reserved)
  const stateless = new PerMessageDeflate(agreement({ clientNoContextTakeover: true }), 'server', { maxMessageSize: 1 << 20 });
  await rejectsWith(stateless.decompress([junk], []), 1007, 'INVALID_COMPRESSED_DATA');
  assert.is(dec.decode(await inflate(stateless, bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00))), 'Hello');
  // Stored block whose LEN/NLEN disagree, on the stream path.
  const big = new PerMessageDeflate(agreement({ clientNoContextTakeover: true }), 'server', { maxMessageSize: 1 << 20 });
  const c = await new PerMessageDeflate(agreement(), 'client', { maxMessageSize: 1 << 20, level: 0 }).compress(noise(100_000));
  c[2] = c[2]! ^ 0x55;
  await rejectsWith(big.decompress([c], []), 1007, 'INVALID_COMPRESSED_DATA');
  const keep = new PerMessageDeflate(agreement(), 'server', { maxMessageSize: 1 << 20 });
  await rejectsWith(keep.decompress([junk], []), 1007, 'INVALID_COMPRESSED_DATA');
  await rejectsWith(keep.decompress([bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)], []), 1007, 'INVALID_COMPRESSED_DATA');
  for (const p of [stateless, big, keep]) p.dispose();
});

(deflateAvailable ? limits : limits.skip)('dispose: pending and later operations reject with 1011, dispose is idempotent', async () => {
  const { client, server } = pair(agreement());
  // Incompressible, so the message is larger than a synchronous inflate takes and is still on the threadpool when
  // dispose() comes (a small one would already be done).
  const c = await client.compress(noise(200_000, 7));
  assert.ok(c.length > SYNC_INFLATE_INPUT, `${c.length}`);
  const pendingIn = server.decompress([c], []);
  const pendingOut = client.compress(text(300_000));
  server.dispose(); server.dispose();
  client.dispose();
  await rejectsWith(pendingIn, 1011, 'DEFLATE_DISPOSED');
  await rejectsWith(pendingOut, 1011, 'DEFLATE_DISPOSED');
  await rejectsWith(server.decompress([c], []), 1011, 'DEFLATE_DISPOSED');
  await rejectsWith(client.compress(c), 1011, 'DEFLATE_DISPOSED');
});
(deflateAvailable ? limits : limits.skip)('a highly compressed message inflates in slices, yielding to the event loop between them', async () => {
  const { client, server } = pair(agreement(), 64 << 20);
  // A 4 KiB text repeated: every match has the same length and distance, a few bits each, so 3 MiB fits in a few KiB.
  const block = text(4096, 3);
  const plain = new Uint8Array(3 * SYNC_INFLATE_SLICE + 12_345);
  for (let o = 0; o < plain.length; o += block.length) plain.set(block.subarray(0, plain.length - o), o);
  const c = await client.compress(plain);
  assert.ok(c.length <= SYNC_INFLATE_INPUT, `${c.length}`); // small enough for the synchronous path where it exists
  let ticks = 0;
  const timer = globalThis.setInterval(() => { ticks++; }, 0);
  const out: Uint8Array[] = [];
  await server.decompress([c], out);
  globalThis.clearInterval(timer);
  assert.equal(join(out), plain);
  // On the synchronous path each slice ends with a macrotask, so a timer ran while the message was inflated.
  // (Where the runtime's zlib has no usable native handle, as in Deno, the threadpool inflates it instead.)
  if (nativeSyncWorks(getZlib()!)) assert.ok(ticks >= 2, `${ticks}`);
  // The context survives the slices: the next message still inflates against it.
  const again = await client.compress(plain.subarray(0, 5000));
  assert.ok(again.length < 200, `${again.length}`);
  const out2: Uint8Array[] = [];
  await server.decompress([again], out2);
  assert.equal(join(out2), plain.subarray(0, 5000));
  client.dispose(); server.dispose();
});

(deflateAvailable ? limits : limits.skip)('the size cap holds across slices, and dispose() during a slice\'s pause rejects with 1011', async () => {
  const zeros = new Uint8Array(8 * SYNC_INFLATE_SLICE);
  const bomb = await pair(agreement()).client.compress(zeros);
  assert.ok(bomb.length <= SYNC_INFLATE_INPUT, `${bomb.length}`);
  const capped = pair(agreement(), 2 * SYNC_INFLATE_SLICE + 1).server;
  await rejectsWith(capped.decompress([bomb], []), 1009, 'MESSAGE_TOO_BIG');
  capped.dispose();
  const gone = pair(agreement()).server;
  const pending = gone.decompress([bomb], []);
  gone.dispose();
  await rejectsWith(pending, 1011, 'DEFLATE_DISPOSED');
});

limits.run();
