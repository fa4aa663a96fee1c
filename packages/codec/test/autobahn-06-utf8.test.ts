// Autobahn TestSuite group 6 (UTF-8 handling), from RFC 6455 8.1 and RFC 3629: text must be valid UTF-8, checked
// incrementally across fragments (a code point may be split between fragments), failing with 1007 on the first
// fragment that cannot be valid rather than at the end of the message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CodecError, FrameDecoder, isValidUtf8, Utf8Validator, type Frame } from '../src/index.js';
import { cframe, decodeStream, expectFailure, expectMessages, hex, norm } from './_helpers.js';

const VALID: Array<[string, string]> = [
  ['empty', ''],
  ['ASCII', '48656c6c6f2d c2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121'],
  ['kosme (Greek)', 'cebae1bdb9cf83cebcceb5'],
  ['U+0080 (first 2-byte)', 'c280'],
  ['U+0800 (first 3-byte)', 'e0a080'],
  ['U+10000 (first 4-byte)', 'f0908080'],
  ['U+007F (last 1-byte)', '7f'],
  ['U+07FF (last 2-byte)', 'dfbf'],
  ['U+FFFF (last 3-byte, noncharacter but valid)', 'efbfbf'],
  ['U+10FFFF (last valid code point)', 'f48fbfbf'],
  ['U+D7FF (just below surrogates)', 'ed9fbf'],
  ['U+E000 (just above surrogates)', 'ee8080'],
  ['U+FFFD', 'efbfbd'],
  ['U+FEFF BOM kept as data', 'efbbbf41'],
  ['emoji', 'f09f9880f09f9a80'],
  ['NUL byte', '00'],
];

const INVALID: Array<[string, string]> = [
  ['lone continuation 80', '80'],
  ['lone continuation bf', 'bf'],
  ['two continuations', '80bf'],
  ['lead without continuation', 'c0'],
  ['C0 overlong slash', 'c0af'],
  ['C1 overlong', 'c1bf'],
  ['E0 overlong slash', 'e080af'],
  ['F0 overlong slash', 'f08080af'],
  ['F8 5-byte form', 'f888808080'],
  ['FC 6-byte form', 'fc8480808080'],
  ['E0 overlong max', 'e09fbf'],
  ['F0 overlong max', 'f08fbfbf'],
  ['surrogate U+D800', 'eda080'],
  ['surrogate U+DB7F', 'edadbf'],
  ['surrogate U+DC00', 'edb080'],
  ['surrogate U+DFFF', 'edbfbf'],
  ['surrogate pair D800 DC00', 'eda080edb080'],
  ['U+110000 (> U+10FFFF)', 'f4908080'],
  ['F5 lead', 'f5808080'],
  ['FF byte', 'ff'],
  ['FE byte', 'fe'],
  ['truncated 2-byte at end', '41c3'],
  ['truncated 3-byte at end', 'e282'],
  ['truncated 4-byte at end', 'f09f98'],
  ['lead followed by ASCII', 'c341'],
  ['3-byte with bad second continuation', 'e28241'],
  ['valid then invalid', 'cebae1bdb9cf83cebcceb5eda080656469746564'],
];

for (const [name, h] of VALID) {
  test(`6.x valid: ${name} in one frame`, async () => {
    const b = hex(h);
    const s = new TextDecoder('utf-8', { ignoreBOM: true }).decode(b);
    await expectMessages(cframe({ opcode: 1, payload: b }), [{ type: 'text', data: s }]);
  });
}

for (const [name, h] of INVALID) {
  test(`6.x invalid: ${name} -> 1007`, async () => {
    const e = await expectFailure(cframe({ opcode: 1, payload: hex(h) }), 1007);
    assert.is(e.code, 'INVALID_UTF8');
  });
}

test('6.2 valid multi-byte text split into two fragments at every byte position', async () => {
  const b = hex('cebae1bdb9cf83cebcceb5f09f9880c2b5');
  const s = new TextDecoder().decode(b);
  for (let i = 0; i <= b.length; i++) {
    await expectMessages(
      [cframe({ opcode: 1, fin: false, payload: b.subarray(0, i) }), cframe({ opcode: 0, payload: b.subarray(i) })],
      [{ type: 'text', data: s }],
    );
  }
});

test('6.3 valid text split into one fragment per byte', async () => {
  const b = hex('f48fbfbfcebae1bdb9');
  const frames = Array.from(b, (x, i) => cframe({ opcode: i === 0 ? 1 : 0, fin: i === b.length - 1, payload: Uint8Array.of(x) }));
  await expectMessages(frames, [{ type: 'text', data: new TextDecoder().decode(b) }]);
});

test('6.4.1 fail fast: invalid first fragment fails before the message ends', () => {
  const dec = new FrameDecoder({ role: 'server' });
  const out: Frame[] = [];
  dec.push(cframe({ opcode: 1, fin: false, payload: hex('cebae1bdb9cf83cebcceb5') }), out);
  try {
    dec.push(cframe({ opcode: 0, fin: false, payload: hex('f4908080') }), out);
    assert.unreachable('should have failed on the second fragment');
  } catch (e) {
    assert.instance(e, CodecError);
    assert.is((e as CodecError).closeCode, 1007);
  }
});

test('6.4.3 fail fast inside one frame: the invalid part of a payload fails before the rest arrives', () => {
  const payload = hex('cebae1bdb9cf83cebcceb5 f4908080 656469746564');
  const wire = cframe({ opcode: 1, payload });
  const dec = new FrameDecoder({ role: 'server' });
  const out: Frame[] = [];
  dec.push(wire.slice(0, 6 + 11), out); // header + the valid part
  assert.throws(
    () => dec.push(wire.slice(6 + 11, 6 + 15), out), // the invalid code point, rest of the frame not yet sent
    (e: unknown) => e instanceof CodecError && e.closeCode === 1007,
  );
});

test('6.4.x fail fast with streamMessages: earlier pieces delivered, then 1007', async () => {
  const payload = hex('4142434445 ff 4647');
  const wire = cframe({ opcode: 1, payload });
  const r = await decodeStream([wire.slice(0, 11), wire.slice(11)], { streamMessages: true });
  assert.instance(r.error, CodecError);
  assert.is((r.error as CodecError).closeCode, 1007);
  assert.equal(norm(r.messages), norm([{ type: 'chunk', kind: 'text', data: hex('4142434445'), first: true, last: false }]));
});

test('a code point split between fragments with a ping in between is valid', async () => {
  const te = new TextEncoder();
  await expectMessages(
    [cframe({ opcode: 1, fin: false, payload: hex('f09f') }), cframe({ opcode: 9, payload: 'p' }), cframe({ opcode: 0, payload: hex('9880') })],
    [{ type: 'ping', data: te.encode('p') }, { type: 'text', data: '\u{1F600}' }],
  );
});

test('message ending in the middle of a code point -> 1007 at the final fragment', async () => {
  await expectFailure([cframe({ opcode: 1, fin: false, payload: hex('41') }), cframe({ opcode: 0, payload: hex('f09f98') })], 1007);
});

test('binary messages are not UTF-8 checked', async () => {
  const data = hex('ff fe c0 af eda080');
  await expectMessages(cframe({ opcode: 2, payload: data }), [{ type: 'binary', data }]);
});

test('validator: long ASCII runs (word fast path) at every alignment, with a bad byte at every position', () => {
  const base = new Uint8Array(300).fill(0x61);
  for (let off = 0; off < 4; off++) {
    const view = base.subarray(off, off + 200);
    assert.ok(isValidUtf8(view));
    for (const bad of [0, 63, 64, 65, 130, 199]) {
      const copy = new Uint8Array(256);
      copy.set(view.subarray(0), off);
      const v = copy.subarray(off, off + 200);
      v[bad] = 0xff;
      assert.not.ok(isValidUtf8(v), `offset ${off}, bad at ${bad}`);
    }
  }
});

test('validator: agrees with a fatal TextDecoder on every 1- and 2-byte input and on 3-byte lead ranges', () => {
  const td = new TextDecoder('utf-8', { fatal: true });
  const ok = (b: Uint8Array) => {
    try {
      td.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  for (let a = 0; a < 256; a++) {
    assert.is(isValidUtf8(Uint8Array.of(a)), ok(Uint8Array.of(a)), `byte ${a}`);
    for (let b = 0; b < 256; b++) {
      const x = Uint8Array.of(a, b);
      if (isValidUtf8(x) !== ok(x)) assert.unreachable(`bytes ${a} ${b}`);
    }
  }
  for (const a of [0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5]) {
    for (let b = 0x70; b < 0xd0; b++) {
      for (const c of [0x7f, 0x80, 0xbf, 0xc0]) {
        const x = Uint8Array.of(a, b, c, 0x80);
        if (isValidUtf8(x) !== ok(x)) assert.unreachable(`bytes ${a} ${b} ${c} 80`);
      }
    }
  }
});

test('validator: incremental state survives splits at every position; stays failed', () => {
  const b = hex('f48fbfbf cebae1bdb9 e0a080 c280');
  for (let i = 0; i <= b.length; i++) {
    const v = new Utf8Validator();
    assert.ok(v.push(b.subarray(0, i)));
    assert.ok(v.push(b, i, b.length));
    assert.ok(v.complete);
  }
  const v = new Utf8Validator();
  assert.not.ok(v.push(hex('ff')));
  assert.not.ok(v.push(hex('41')));
  v.reset();
  assert.ok(v.push(hex('41')));
});

test.run();
