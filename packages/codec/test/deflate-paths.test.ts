// permessage-deflate's two ways of driving a persistent (context takeover) zlib stream — synchronous calls on its
// native handle for small messages, the public threadpool API otherwise and where the handle is not usable — must
// be indistinguishable: same bytes out, same limits, same errors. Portable: skips itself without node:zlib.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PerMessageDeflate, deflateAvailable, type DeflateAgreement } from '../src/deflate/index.js';
import { NativeSync, nativeSyncWorks } from '../src/deflate/native-sync.js';
import { getZlib, setZlibForTesting, type ZlibModule, type ZlibStream } from '../src/deflate/zlib.js';
import { CodecError } from '../src/errors.js';

// Tests that need node:zlib are registered as skipped where it is missing (browsers), rather than passing without
// asserting anything; the declined-offer path is what those runtimes test instead.

const agreement: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const enc = new TextEncoder();

/** The same zlib, but its streams expose only the public API (no native handle): forces the threadpool path. */
function publicOnly(real: ZlibModule): ZlibModule {
  const facade = (s: ZlibStream): ZlibStream => ({
    write: (c, cb) => s.write(c, cb),
    on: ((ev: 'data' | 'error', l: (x: never) => void) => s.on(ev as 'data', l as (c: Uint8Array) => void)) as ZlibStream['on'],
    destroy: () => s.destroy(),
    get destroyed() { return s.destroyed === true; },
    get errored() { return s.errored ?? null; },
    get bytesWritten() { return s.bytesWritten ?? 0; },
  });
  return { ...real, constants: real.constants, createInflateRaw: (o) => facade(real.createInflateRaw(o)), createDeflateRaw: (o) => facade(real.createDeflateRaw(o)) };
}

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

const messages = Array.from({ length: 30 }, (_, i) => enc.encode(`{"seq":${i},"user":"u${i % 4}","text":"${'hello world '.repeat(1 + ((i * 37) % 200))}"}`));

async function transcript(z: ZlibModule): Promise<{ wire: Uint8Array[]; back: Uint8Array[] }> {
  setZlibForTesting(z);
  const c = new PerMessageDeflate(agreement, 'client', { maxMessageSize: 1 << 20 });
  const s = new PerMessageDeflate(agreement, 'server', { maxMessageSize: 1 << 20 });
  const wire: Uint8Array[] = [];
  const back: Uint8Array[] = [];
  for (const m of messages) {
    const w = await c.compress(m);
    wire.push(new Uint8Array(w)); // plain copies: zlib's outputs may be Buffers on one path, Uint8Arrays on the other
    const out: Uint8Array[] = [];
    await s.decompress([w], out);
    back.push(join(out));
  }
  c.dispose(); s.dispose();
  return { wire, back };
}

const paths = suite('sync handle vs threadpool');
let real: ZlibModule;
paths.before(() => { real = getZlib()!; });
paths.after(() => { if (real) setZlibForTesting(real); });

(deflateAvailable ? paths : paths.skip)('the self-test accepts this runtime\'s zlib, and rejects streams without a native handle', () => {
  // Node and Bun expose the handle; Deno's node:zlib does not (its streams take the threadpool path, below).
  console.log(`  native sync zlib: ${nativeSyncWorks(real)}`);
  assert.is(nativeSyncWorks(publicOnly(real)), false);
});

(deflateAvailable && nativeSyncWorks(getZlib()!) ? paths : paths.skip)('a destroyed stream is refused before its native handle is touched', () => {
  const s = real.createInflateRaw({ windowBits: 15 });
  s.on('error', () => {});
  const n = NativeSync.of(s, 1024)!;
  s.destroy();
  assert.throws(() => n.run(Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff), real.constants.Z_SYNC_FLUSH, () => true));
});

(deflateAvailable ? paths : paths.skip)('identical compressed bytes and messages on both paths', async () => {
  const a = await transcript(real);
  const b = await transcript(publicOnly(real));
  assert.equal(a.wire, b.wire);
  assert.equal(a.back, messages);
  assert.equal(b.back, messages);
  // Context takeover really happened: later copies of similar messages are far smaller.
  assert.ok(a.wire[29]!.length < messages[29]!.length / 5);
});

(deflateAvailable ? paths : paths.skip)('limits and errors are the same on both paths', async () => {
  for (const z of [real, publicOnly(real)]) {
    setZlibForTesting(z);
    // ~512 KiB of zeros in a few hundred bytes: small enough for the synchronous path.
    const maker = new PerMessageDeflate(agreement, 'client', { maxMessageSize: 1 << 30 });
    const bomb = await maker.compress(new Uint8Array(512 * 1024));
    assert.ok(bomb.length <= 1024, `${bomb.length}`);
    const victim = new PerMessageDeflate(agreement, 'server', { maxMessageSize: 100_000 });
    const out: Uint8Array[] = [];
    await victim.decompress([bomb], []).then(() => assert.unreachable('accepted'), (e: unknown) => {
      assert.instance(e, CodecError);
      assert.is((e as CodecError).closeCode, 1009);
    });
    // The context is gone after a failure: later messages fail too.
    await victim.decompress([await maker.compress(enc.encode('x'))], out).then(() => assert.unreachable('accepted'), (e: unknown) => {
      assert.is((e as CodecError).closeCode, 1009);
    });
    assert.is(out.length, 0);
    const junk = new PerMessageDeflate(agreement, 'server', { maxMessageSize: 100_000 });
    await junk.decompress([Uint8Array.of(0xff, 0xff, 0xff, 0x00, 0x12)], []).then(() => assert.unreachable('accepted'), (e: unknown) => {
      assert.is((e as CodecError).closeCode, 1007);
    });
    await junk.decompress([Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)], []).then(() => assert.unreachable('accepted'), (e: unknown) => {
      assert.is((e as CodecError).closeCode, 1007);
    });
    // Exactly at the limit passes.
    const exact = new PerMessageDeflate(agreement, 'server', { maxMessageSize: 512 * 1024 });
    const ok: Uint8Array[] = [];
    await exact.decompress([bomb], ok);
    assert.is(join(ok).length, 512 * 1024);
    for (const p of [maker, victim, junk, exact]) p.dispose();
  }
});

paths.run();
