/**
 * The frame/message fuzz oracle, shared by the fuzz test and the corpus replay.
 *
 * Sync path: FrameDecoder -> MessageAssembler (the fused decoder's core), so hundreds of thousands of inputs fit
 * the budget. Stream path: WebSocketDecoderStream (what the session uses), with and without permessage-deflate.
 * Each input ends in messages plus a terminal state (clean end, "mid-frame", or a CodecError with its close code),
 * and every chunking must give exactly the same.
 *
 * Valid streams come from a small reference frame writer below (written from RFC 6455 5.2, independent of the
 * codec's encoder), so encoder and decoder bugs cannot cancel out.
 */
import {
  FrameDecoder, MessageAssembler, WebSocketDecoderStream, CodecError, type Role, type IncomingMessage,
  type DeflateAgreement,
} from '@streamsocket/codec';
import { deflateRawSync, constants as Z } from 'node:zlib';
import { chunkings, concatBytes, toHex, type Rng, type Chunking } from '../src/index.js';

export const MAX_MESSAGE = 4096;
/** Close codes a decoder may fail with (1006 = stream ended mid-frame, stream path only). */
const DECODER_CODES = new Set([1002, 1007, 1009]);

export class OracleError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Reference frame writer and valid stream generator

export function frame(fin: boolean, rsv1: boolean, opcode: number, payload: Uint8Array, maskKey: Uint8Array | null, lenForm?: 7 | 16 | 64): Uint8Array {
  const n = payload.length;
  const form = lenForm ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const hl = 2 + (form === 16 ? 2 : form === 64 ? 8 : 0) + (maskKey ? 4 : 0);
  const out = new Uint8Array(hl + n);
  out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  let p = 2;
  if (form === 7) out[1] = n;
  else if (form === 16) {
    out[1] = 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
    p = 4;
  } else {
    out[1] = 127;
    const dv = new DataView(out.buffer);
    dv.setUint32(2, Math.floor(n / 4294967296));
    dv.setUint32(6, n >>> 0);
    p = 10;
  }
  if (maskKey) {
    out[1] = out[1]! | 0x80;
    out.set(maskKey, p);
    p += 4;
    for (let i = 0; i < n; i++) out[p + i] = payload[i]! ^ maskKey[i & 3]!;
  } else out.set(payload, p);
  return out;
}

export type Expected = { type: 'text'; data: string } | { type: 'binary' | 'ping' | 'pong'; data: Uint8Array } | { type: 'close'; code: number; reason: string };

const enc = new TextEncoder();

function randomText(rng: Rng, max: number): string {
  const pool = ['a', 'Z', ' ', '\u00e9', '\u20ac', '\u{1F600}', '\u0000', '\uFFFD', '\u4e2d'];
  let s = '';
  const n = rng.size(max);
  while (enc.encode(s).length < n) s += rng.pick(pool);
  return s;
}

/** Deflates one message the way a permessage-deflate peer would (raw DEFLATE, sync flush, trailer removed). */
export function deflateMessage(data: Uint8Array): Uint8Array {
  const d = deflateRawSync(data, { finishFlush: Z.Z_SYNC_FLUSH });
  return new Uint8Array(d.buffer, d.byteOffset, d.length - 4).slice();
}

/**
 * A valid stream of frames as sent by the peer of `role` (the client masks), with the messages a correct decoder
 * yields. Data messages may be fragmented with control frames between the fragments; with `deflate` some are
 * compressed (RSV1 on the first frame).
 */
export function validStream(rng: Rng, role: Role, deflate: boolean, maxMessages = 6): { frames: Uint8Array[]; messages: Expected[] } {
  const maskKey = (): Uint8Array | null => (role === 'server' ? rng.bytes(4) : null);
  const frames: Uint8Array[] = [];
  const messages: Expected[] = [];
  const count = 1 + rng.int(maxMessages);
  const control = (): void => {
    const t = rng.pick(['ping', 'pong'] as const);
    const d = rng.bytes(rng.int(126));
    frames.push(frame(true, false, t === 'ping' ? 9 : 10, d, maskKey()));
    messages.push({ type: t, data: d });
  };
  for (let m = 0; m < count; m++) {
    const k = rng.int(10);
    if (k < 2) {
      control();
      continue;
    }
    const text = k < 6;
    const s = text ? randomText(rng, 600) : '';
    const data = text ? enc.encode(s) : rng.bytes(rng.size(1500));
    const compressed = deflate && rng.bool(0.6);
    const wire = compressed ? deflateMessage(data) : data;
    const pieces = rng.bool(0.5) ? 1 : 1 + rng.int(4);
    for (let i = 0; i < pieces; i++) {
      const a = Math.floor((wire.length * i) / pieces);
      const b = Math.floor((wire.length * (i + 1)) / pieces);
      const form = rng.bool(0.1) ? rng.pick([16, 64] as const) : undefined;
      frames.push(frame(i === pieces - 1, compressed && i === 0, i === 0 ? (text ? 1 : 2) : 0, wire.subarray(a, b), maskKey(), form));
      if (i < pieces - 1 && rng.bool(0.3)) control();
    }
    messages.push(text ? { type: 'text', data: s } : { type: 'binary', data });
  }
  if (rng.bool(0.3)) {
    const code = rng.pick([1000, 1001, 1011, 3000, 4999]);
    const reason = Array.from(randomText(rng, 60)).slice(0, 20).join(''); // whole code points: no lone surrogate
    const r = enc.encode(reason);
    if (r.length <= 123) {
      const p = new Uint8Array(2 + r.length);
      p[0] = code >>> 8;
      p[1] = code & 0xff;
      p.set(r, 2);
      frames.push(frame(true, false, 8, p, maskKey()));
      messages.push({ type: 'close', code, reason });
      if (rng.bool(0.5)) frames.push(rng.bytes(rng.int(20))); // garbage after close is ignored
    }
  }
  return { frames, messages };
}

/** Frame-aware mutation: edits one frame's header (opcode, RSV, mask bit, length field) or payload. */
export function mutateFrames(frames: Uint8Array[], rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = frames.map((f) => f.slice());
  if (out.length === 0) return out;
  const i = rng.int(out.length);
  const f = out[i]!;
  if (f.length < 2) return out;
  switch (rng.int(7)) {
    case 0: f[0] = (f[0]! & 0xf0) | rng.int(16); break; // opcode, incl. reserved ones
    case 1: f[0] = f[0]! ^ rng.pick([0x80, 0x40, 0x20, 0x10]); break; // FIN / RSV
    case 2: f[1] = f[1]! ^ 0x80; break; // mask bit
    case 3: f[1] = (f[1]! & 0x80) | rng.pick([125, 126, 127, rng.int(128)]); break; // length form
    case 4: {
      // a huge or top-bit 64-bit length
      const big = new Uint8Array(8);
      big[0] = rng.pick([0x80, 0x00, 0x7f]);
      big[3] = rng.pick([0x00, 0x40]);
      big[4] = rng.int(256);
      const hdr = new Uint8Array([f[0]!, (f[1]! & 0x80) | 127, ...big]);
      out[i] = concatBytes([hdr, f.subarray(2)]);
      break;
    }
    case 5: out.splice(i, 1); break;
    default: out.splice(i, 0, f.slice()); break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Outcomes

function show(m: IncomingMessage | Expected): string {
  switch (m.type) {
    case 'text': return `text:${JSON.stringify(m.data)}`;
    case 'close': return `close:${m.code}:${JSON.stringify(m.reason)}`;
    case 'chunk': return `chunk`;
    default: return `${m.type}:${toHex(m.data)}`;
  }
}
export function showExpected(ms: Expected[]): string[] {
  return ms.map(show);
}

export interface Outcome { messages: string[]; end: string }

function typedEnd(e: unknown, allow1006: boolean): string {
  if (!(e instanceof CodecError)) {
    throw new OracleError(`untyped decoder error: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  }
  if (!(DECODER_CODES.has(e.closeCode) || (allow1006 && e.closeCode === 1006 && e.code === 'TRUNCATED'))) {
    throw new OracleError(`CodecError with close code ${e.closeCode} (${e.code})`);
  }
  return `error:${e.closeCode}:${e.code}`;
}

/** Sync core (no deflate: compressed messages are PendingInflate and shown as such). */
export function syncOutcome(role: Role, chunks: Uint8Array[], deflate: DeflateAgreement | null = null): Outcome {
  const dec = new FrameDecoder({ role, maxMessageSize: MAX_MESSAGE, deflate });
  const asm = new MessageAssembler({ maxMessageSize: MAX_MESSAGE, deflate: deflate !== null, streamMessages: false, trusted: true });
  const messages: string[] = [];
  const drain = (): void => {
    for (const m of asm.out) {
      if ('parts' in m) messages.push(`inflate:${m.kind}:${toHex(concatBytes(m.parts))}`);
      else messages.push(show(m as IncomingMessage));
    }
    asm.out.length = 0;
  };
  try {
    for (const c of chunks) {
      dec.decode(c, asm);
      drain();
    }
  } catch (e) {
    drain();
    return { messages, end: typedEnd(e, false) };
  }
  // After a close frame nothing more is read: a message left unfinished by it is not "mid-frame".
  return { messages, end: dec.closed || (dec.idle && asm.idle) ? 'end' : 'mid-frame' };
}

/** The fused stream the session uses; resolves when the readable ends or errors. Bounded by `ms`. */
export async function streamOutcome(role: Role, chunks: Uint8Array[], deflate: DeflateAgreement | null, ms = 5000): Promise<Outcome> {
  const ts = new WebSocketDecoderStream({ role, maxMessageSize: MAX_MESSAGE, deflate });
  const messages: string[] = [];
  const writer = ts.writable.getWriter();
  const writing = (async () => {
    for (const c of chunks) await writer.write(c);
    await writer.close();
  })();
  writing.catch(() => {});
  const reader = ts.readable.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new OracleError(`stream decoder did not finish within ${ms} ms (hang)`)), ms);
  });
  try {
    const end = await Promise.race([
      (async () => {
        try {
          for (;;) {
            const r = await reader.read();
            if (r.done) return 'end';
            messages.push(show(r.value));
          }
        } catch (e) {
          return typedEnd(e, true);
        }
      })(),
      timeout,
    ]);
    return { messages, end };
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

/** Same input, every chunking, one outcome. Throws OracleError on a violation. */
export function checkSync(role: Role, input: Uint8Array, rng: Rng, deflate: DeflateAgreement | null = null): Outcome {
  return agree(chunkings(input, rng, 2048), (c) => syncOutcome(role, c.chunks, deflate));
}

export async function checkStream(role: Role, input: Uint8Array, rng: Rng, deflate: DeflateAgreement | null): Promise<Outcome> {
  const cs = chunkings(input, rng, 300).slice(0, 4);
  let first: { name: string; json: string; o: Outcome } | null = null;
  for (const c of cs) {
    const o = await streamOutcome(role, c.chunks, deflate).catch((e: unknown) => {
      throw e instanceof OracleError ? new OracleError(`[${c.name}] ${e.message}`) : e;
    });
    const json = JSON.stringify(o);
    if (!first) first = { name: c.name, json, o };
    else if (json !== first.json) throw new OracleError(`chunkings disagree (stream, deflate=${deflate !== null}):\n  ${first.name}: ${first.json}\n  ${c.name}: ${json}`);
  }
  return first!.o;
}

function agree(cs: Chunking[], run: (c: Chunking) => Outcome): Outcome {
  let first: { name: string; json: string; o: Outcome } | null = null;
  for (const c of cs) {
    let o: Outcome;
    try {
      o = run(c);
    } catch (e) {
      if (e instanceof OracleError) throw new OracleError(`[${c.name}] ${e.message}`);
      throw e;
    }
    const json = JSON.stringify(o);
    if (!first) first = { name: c.name, json, o };
    else if (json !== first.json) throw new OracleError(`chunkings disagree:\n  ${first.name}: ${first.json}\n  ${c.name}: ${json}`);
  }
  return first!.o;
}

export const AGREEMENTS: DeflateAgreement[] = [
  { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
  { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
];

/** A short description of where two outcomes first differ. */
export function diffOutcome(a: Outcome, b: Outcome): string {
  const n = Math.max(a.messages.length, b.messages.length);
  for (let i = 0; i < n; i++) {
    if (a.messages[i] !== b.messages[i]) {
      return `message ${i} of ${a.messages.length}/${b.messages.length}:\n    ${String(a.messages[i]).slice(0, 200)}\n    ${String(b.messages[i]).slice(0, 200)}`;
    }
  }
  return `end: ${a.end} vs ${b.end}`;
}
