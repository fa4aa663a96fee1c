/**
 * Bugs found by the hardening suite in other packages. Open ones use knownBug() (see
 * _known.ts); fixed ones stay here as plain regression tests. None is open at the moment.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PerMessageDeflate, WebSocketEncoderStream, WebSocketDecoderStream, type CodecError, loadZlib, type DeflateAgreement } from '@streamsocket/codec';

const TAKEOVER: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

// Kept for the whole file: the bug's stray rejection may arrive after its test ended, and must not crash the file.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => void unhandled.push(e));

test.before(async () => {
  await loadZlib();
});

test('codec deflate (fixed in 767f8f6): compress() of an empty message after a non-empty one (context takeover) no longer rejects', async () => {
  const p = new PerMessageDeflate(TAKEOVER, 'client', { maxMessageSize: 1 << 20 });
  try {
    await p.compress(new Uint8Array([1, 2, 3]));
    const c = await p.compress(new Uint8Array(0));
    // RFC 7692 7.2.3.6: an empty message compresses to a single 0x00 byte (after the trailer is removed) or similar.
    assert.ok(c.length >= 1, 'some compressed bytes');
  } finally {
    p.dispose();
  }
});

test('codec deflate (fixed in 767f8f6): WebSocketEncoderStream (threshold 0) encodes an empty message after a non-empty one', async () => {
  unhandled.length = 0;
  {
    const enc = new WebSocketEncoderStream({ role: 'client', deflate: TAKEOVER, compressThreshold: 0 });
    const r = enc.readable.getReader();
    const reading = (async () => {
      let n = 0;
      for (;;) {
        const x = await r.read();
        if (x.done) return n;
        n++;
      }
    })();
    reading.catch(() => {}); // awaited below unless a write throws first
    const w = enc.writable.getWriter();
    await w.write({ type: 'binary', data: new Uint8Array([1]) });
    await w.write({ type: 'binary', data: new Uint8Array(0) });
    await w.close();
    assert.ok((await reading) >= 2, 'both messages encoded');
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(unhandled.map(String), [], 'no unhandled rejection');
  }
});

// Found by fuzz-stream (seed 1, under heavy load: the frames of the last chunk were missing before the 1006); a real
// race in the decoder streams' flush(), fixed by the codec owner in 71f9ec4. Kept as a regression test.
test('codec: WebSocketDecoderStream delivers the frames of the last chunk before ending mid-frame with 1006', async () => {
  // One chunk: three complete unmasked control frames, then the first byte of another frame; the writer closes at once.
  const ts = new WebSocketDecoderStream({ role: 'client' });
  const w = ts.writable.getWriter();
  void w.write(new Uint8Array([0x89, 0x02, 0x68, 0x69, 0x8a, 0x00, 0x89, 0x00, 0x81])).catch(() => {});
  void w.close().catch(() => {});
  const r = ts.readable.getReader();
  const got: string[] = [];
  let end = '';
  try {
    for (;;) {
      const x = await r.read();
      if (x.done) break;
      got.push(x.value.type);
    }
  } catch (e) {
    end = `${(e as CodecError).closeCode}`;
  }
  assert.is(end, '1006');
  assert.equal(got, ['ping', 'pong', 'ping'], 'the complete frames are delivered before the 1006');
});

test.run();
