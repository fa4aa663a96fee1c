// Frame decode/encode throughput of @streamsocket/codec's synchronous cores against ws's own Receiver and
// Sender (with bufferutil when installed), on the same bytes, and against a plain memory copy
// (TypedArray.prototype.set) of those bytes. Not a test: prints a table.
//
//   node bench/codec/run.mjs [--ms 1000] [--cpu] [--sizes 16,1024,65536,1048576] [--json out.json]
//
// Decode: a wire image of ~8 MiB of binary frames of one size, masked (client -> server) or not, fed in 64 KiB
// chunks. Both decoders unmask in place, so every pass gets a fresh copy of the wire image (outside the timing).
// The copy baseline moves the same 64 KiB chunks into a buffer of max(frame size, 64 KiB) (the one copy any
// decoder needs for frames that span chunks); for frames of 64 KiB and more, the fresh-copy baseline does the same
// into a new buffer per frame (what a decoder that hands each frame out in its own buffer must at least do).
// Encode: one frame at a time from the same payload; the copy baseline copies the payload once into a frame-sized
// buffer. Encode text: FrameEncoder.writeText against Sender.frame(string), ASCII text.
import { Receiver, Sender } from 'ws';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { bundleCodec } from './bundle.mjs';

const { FrameDecoder, FrameEncoder } = await bundleCodec();

const argv = process.argv.slice(2);
const opt = (name, d) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : d; };
const MS = Number(opt('--ms', 1000));
const SIZES = opt('--sizes', '16,1024,65536,1048576').split(',').map(Number);
const CHUNK = 64 * 1024;
const WIRE_TARGET = 8 * 1024 * 1024;

const wsRequire = createRequire(createRequire(import.meta.url).resolve('ws'));
let bufferutil = 'no';
try { wsRequire('bufferutil'); bufferutil = process.env.WS_NO_BUFFER_UTIL ? 'disabled' : 'yes'; } catch { /* plain JS masking */ }

/**
 * Measures several contenders on one cell fairly on a shared, noisy machine: ROUNDS rounds, each giving every
 * contender MS/ROUNDS ms in turn (interleaved, so a burst of load hits all alike), keeping each one's best round.
 * `prepare` runs untimed before every pass; a pass returns {bytes, frames}.
 */
const ROUNDS = 5;
/**
 * --cpu: time by the process's CPU time (user + system, all threads, so GC helpers count) instead of wall time:
 * on a machine shared with other busy processes, being descheduled then costs nothing. Cache and memory bandwidth
 * contention still show.
 */
const CPU = argv.includes('--cpu');
const clock = CPU ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();
function measureAll(prepare, passes) {
  for (const pass of passes) for (let i = 0; i < 3; i++) { prepare(); pass(); } // warm-up (JIT tiers)
  const best = passes.map(() => ({ mbps: 0, fps: 0 }));
  for (let r = 0; r < ROUNDS; r++) {
    passes.forEach((pass, k) => {
      let bytes = 0, frames = 0, ms = 0;
      while (ms < MS / ROUNDS) {
        prepare();
        const t0 = clock();
        const res = pass();
        ms += clock() - t0;
        bytes += res.bytes; frames += res.frames;
      }
      const mbps = bytes / 1e6 / (ms / 1e3);
      if (mbps > best[k].mbps) best[k] = { mbps, fps: frames / (ms / 1e3) };
    });
  }
  return best;
}

function wireImage(size, masked) {
  const payload = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
  const enc = new FrameEncoder({ role: masked ? 'client' : 'server' });
  const parts = [];
  let total = 0, frames = 0;
  while (total < WIRE_TARGET || frames < 4) {
    const out = [];
    enc.encode({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload }, out);
    for (const c of out) { parts.push(c); total += c.length; }
    frames++;
  }
  const wire = new Uint8Array(total);
  let o = 0;
  for (const c of parts) { wire.set(c, o); o += c.length; }
  return { wire, frames, payload };
}

function chunksOf(buf) {
  const out = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, Math.min(buf.length, i + CHUNK)));
  return out;
}

function benchDecode(size, masked, split = false) {
  const { wire, frames } = wireImage(size, masked);
  const payloadBytes = frames * size;
  const work = new Uint8Array(wire.length);
  const chunks = chunksOf(work);
  const bufChunks = chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length));
  const prepare = () => work.set(wire);

  const oursPass = () => {
    const d = new FrameDecoder({ role: masked ? 'server' : 'client', maxMessageSize: 1 << 30, splitFrames: split });
    const out = [];
    let n = 0, bytes = 0;
    for (const c of chunks) {
      d.push(c, out);
      for (const f of out) bytes += f.payload.length;
      n += out.length;
      out.length = 0;
    }
    if ((split ? n < frames : n !== frames) || bytes !== payloadBytes) throw new Error(`streamsocket decoded ${n}/${frames} frames`);
    if (split) n = frames; // count whole frames, not pieces
    return { bytes, frames: n };
  };

  const theirsPass = () => {
    const r = new Receiver({ isServer: masked, binaryType: 'nodebuffer', maxPayload: 0, skipUTF8Validation: true });
    let n = 0, bytes = 0;
    r.on('message', (data) => { n++; bytes += data.length; });
    r.on('error', (e) => { throw e; });
    for (const c of bufChunks) r.write(c);
    if (n !== frames || bytes !== payloadBytes) throw new Error(`ws decoded ${n}/${frames} frames`);
    return { bytes, frames: n };
  };

  // At least one chunk big, so small frames do not turn the baseline into a loop of tiny copies.
  const dest = new Uint8Array(Math.max(size, CHUNK));
  const copyPass = () => {
    // Copy the same wire bytes chunk by chunk into a frame-sized buffer (wrapping around).
    let at = 0;
    for (const c of chunks) {
      let src = c;
      while (src.length) {
        const take = Math.min(src.length, dest.length - at);
        dest.set(take === src.length ? src : src.subarray(0, take), at);
        at = (at + take) % dest.length;
        src = src.subarray(take);
      }
    }
    return { bytes: payloadBytes, frames };
  };
  // The same copy into memory a decoder could hand out: a fresh buffer per frame (only where frames span chunks,
  // i.e. where a decoder must copy at all). It bounds any decoder that delivers a new buffer per frame.
  const freshPass = () => {
    let dst = new Uint8Array(size), at = 0;
    for (const c of chunks) {
      let src = c;
      while (src.length) {
        const take = Math.min(src.length, size - at);
        dst.set(take === src.length ? src : src.subarray(0, take), at);
        at += take;
        if (at === size) { dst = new Uint8Array(size); at = 0; }
        src = src.subarray(take);
      }
    }
    return { bytes: payloadBytes, frames };
  };
  const passes = size >= CHUNK ? [oursPass, theirsPass, copyPass, freshPass] : [oursPass, theirsPass, copyPass];
  const [ours, theirs, copy, fresh] = measureAll(prepare, passes);
  return { ours, theirs, copy, fresh };
}

function benchEncode(size, masked, coalesceLimit) {
  const payload = Buffer.alloc(size, 0x61);
  const n = Math.max(4, Math.floor(WIRE_TARGET / Math.max(size, 64)));
  const frame = { fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 2, payload };
  const enc = new FrameEncoder({ role: masked ? 'client' : 'server', ...(coalesceLimit === undefined ? {} : { coalesceLimit }) });
  const nop = () => {};
  const oursPass = () => {
    let wire = 0;
    for (let i = 0; i < n; i++) {
      // A fresh array per frame, as Sender.frame returns one (truncating a reused one costs more: 'set length').
      const out = [];
      enc.encode(frame, out);
      for (const c of out) wire += c.length;
    }
    if (wire < n * size) throw new Error('short');
    return { bytes: n * size, frames: n };
  };
  const wsOpts = { fin: true, rsv1: false, opcode: 2, mask: masked, readOnly: true };
  const theirsPass = () => {
    let wire = 0;
    for (let i = 0; i < n; i++) {
      const out = Sender.frame(payload, wsOpts);
      for (const c of out) wire += c.length;
    }
    if (wire < n * size) throw new Error('short');
    return { bytes: n * size, frames: n };
  };
  const dest = new Uint8Array(size + 14);
  const copyPass = () => {
    for (let i = 0; i < n; i++) dest.set(payload, 14);
    return { bytes: n * size, frames: n };
  };
  const [ours, theirs, copy] = measureAll(nop, [oursPass, theirsPass, copyPass]);
  return { ours, theirs, copy };
}

/** Text: FrameEncoder.writeText (UTF-8 encoded straight into the frame) against Sender.frame(string). ASCII. */
function benchEncodeText(size, masked) {
  const text = 'x'.repeat(size);
  const n = Math.max(4, Math.floor(WIRE_TARGET / Math.max(size, 64)));
  const enc = new FrameEncoder({ role: masked ? 'client' : 'server' });
  const oursPass = () => {
    let wire = 0;
    for (let i = 0; i < n; i++) {
      const out = [];
      enc.writeText(0x81, text, out);
      for (const c of out) wire += c.length;
    }
    if (wire < n * size) throw new Error('short');
    return { bytes: n * size, frames: n };
  };
  const wsOpts = { fin: true, rsv1: false, opcode: 1, mask: masked, readOnly: true };
  const theirsPass = () => {
    let wire = 0;
    for (let i = 0; i < n; i++) {
      const out = Sender.frame(text, wsOpts);
      for (const c of out) wire += c.length;
    }
    if (wire < n * size) throw new Error('short');
    return { bytes: n * size, frames: n };
  };
  const te = new TextEncoder();
  const dest = new Uint8Array(size * 3 + 14);
  const copyPass = () => {
    for (let i = 0; i < n; i++) te.encodeInto(text, dest);
    return { bytes: n * size, frames: n };
  };
  const [ours, theirs, copy] = measureAll(() => {}, [oursPass, theirsPass, copyPass]);
  return { ours, theirs, copy };
}

const label = (n) => (n >= 1048576 ? `${n / 1048576} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`);
const rows = [];
console.log(`node ${process.version}, ws Receiver/Sender (bufferutil: ${bufferutil}), best of ${ROUNDS} interleaved rounds, ${CPU ? 'CPU' : 'wall'} time, ${MS} ms per contender and cell, 64 KiB input chunks`);
console.log('| op | frame | masked | streamsocket MB/s | frames/s | ws MB/s | vs ws | copy MB/s | vs copy | fresh copy MB/s | vs fresh |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
// 'decode split': FrameDecoder with splitFrames (what streamMessages uses): frames spanning chunks are delivered
// piece by piece as views of the input, unmasked in place, never assembled (ws has no such mode: same ws figures).
// 'encode zero-copy': a server encoder with coalesceLimit 0 (header chunk + the payload itself, like Sender.frame).
// 'encode text': FrameEncoder.writeText(string) against Sender.frame(string); copy baseline: TextEncoder.encodeInto.
const ops = [['decode', SIZES, [true, false]], ['decode split', SIZES.filter((n) => n > CHUNK / 2), [true, false]],
  ['encode', SIZES, [true, false]], ['encode zero-copy', SIZES.filter((n) => n <= 16384), [false]],
  ['encode text', SIZES.filter((n) => n <= 1024), [true, false]]];
for (const [op, sizes, maskings] of ops) {
  for (const size of sizes) {
    for (const masked of maskings) {
      const r = op === 'encode text' ? benchEncodeText(size, masked)
        : op.startsWith('encode') ? benchEncode(size, masked, op === 'encode zero-copy' ? 0 : undefined)
        : benchDecode(size, masked, op === 'decode split');
      rows.push({ op, size, masked, ...r });
      const fresh = r.fresh ? `${r.fresh.mbps.toFixed(0)} | ${(r.ours.mbps / r.fresh.mbps).toFixed(2)}x` : ' | ';
      console.log(`| ${op} | ${label(size)} | ${masked ? 'yes' : 'no'} | ${r.ours.mbps.toFixed(0)} | ${Math.round(r.ours.fps).toLocaleString('en-US')} | ${r.theirs.mbps.toFixed(0)} | ${(r.ours.mbps / r.theirs.mbps).toFixed(2)}x | ${r.copy.mbps.toFixed(0)} | ${(r.ours.mbps / r.copy.mbps).toFixed(2)}x | ${fresh} |`);
    }
  }
}
const json = opt('--json', null);
if (json) writeFileSync(json, JSON.stringify({ node: process.version, bufferutil, ms: MS, rows }, null, 2));
