// Shared test helpers (not a suite: the runner only picks up *.test.ts).
import { ReadableStream } from '@web-std/stream';
import {
  CodecError,
  FrameDecoder,
  MessageAssembler,
  WebSocketDecoderStream,
  type DecoderOptions,
  type IncomingMessage,
  type Role,
} from '../src/index.js';

export const te = new TextEncoder();

export function bytes(...parts: Array<number | number[] | Uint8Array | string>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') out.push(...te.encode(p));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export interface RawFrame {
  fin?: boolean;
  rsv?: number; // 0..7 (RSV1 = 4, RSV2 = 2, RSV3 = 1)
  opcode: number;
  payload?: Uint8Array | string;
  /** Mask key; `true` = a fixed non-trivial key; false/undefined = unmasked. */
  mask?: Uint8Array | boolean;
  /** Force a length form: 7, 16 or 64 (non-minimal allowed). */
  lengthForm?: 7 | 16 | 64;
  /** Override the 64-bit length field (BigInt) to forge invalid lengths. */
  length64?: bigint;
}

/** Builds one frame's wire bytes by hand (independent of FrameEncoder, so tests check the encoder too). */
export function frame(f: RawFrame): Uint8Array {
  const payload = typeof f.payload === 'string' ? te.encode(f.payload) : f.payload ?? new Uint8Array(0);
  const n = payload.length;
  const key = f.mask === true ? Uint8Array.of(0x37, 0xfa, 0x21, 0x3d) : f.mask instanceof Uint8Array ? f.mask : null;
  const form = f.length64 !== undefined ? 64 : f.lengthForm ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const m = key ? 0x80 : 0;
  if (form === 7) head.push(m | n);
  else if (form === 16) head.push(m | 126, n >> 8, n & 0xff);
  else {
    head.push(m | 127);
    const v = f.length64 ?? BigInt(n);
    for (let i = 7; i >= 0; i--) head.push(Number((v >> BigInt(i * 8)) & 0xffn));
  }
  if (key) head.push(...key);
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  for (let i = 0; i < n; i++) out[head.length + i] = key ? payload[i]! ^ key[i & 3]! : payload[i]!;
  return out;
}

/** Frames as a client sends them (masked) for a server-role decoder. */
export function cframe(f: RawFrame): Uint8Array {
  return frame({ mask: true, ...f });
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits bytes into chunks of the given sizes (cycling), copying so the decoder may own each chunk. */
export function split(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  let i = 0;
  while (o < data.length) {
    const s = Math.max(1, sizes[i++ % sizes.length]!);
    out.push(data.slice(o, o + s));
    o += s;
  }
  return out;
}

export interface SyncResult {
  messages: IncomingMessage[];
  error: CodecError | undefined;
}

/**
 * Runs the synchronous cores (FrameDecoder feeding MessageAssembler, trusted like the fused stream) over chunks.
 * Returns the messages delivered before any error, and the error.
 */
export function decodeSync(chunks: Uint8Array[] | Uint8Array, o: Partial<DecoderOptions> & { role?: Role } = {}): SyncResult {
  const opts: DecoderOptions = { role: 'server', ...o };
  const dec = new FrameDecoder({ ...opts, splitFrames: opts.streamMessages === true || opts.splitFrames === true });
  const asm = new MessageAssembler({
    maxMessageSize: opts.maxMessageSize ?? 64 * 1024 * 1024,
    deflate: opts.deflate != null,
    streamMessages: opts.streamMessages === true,
    trusted: true,
  });
  const list = chunks instanceof Uint8Array ? [chunks] : chunks;
  try {
    for (const c of list) dec.decode(c.slice(), asm);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    return { messages: asm.out as IncomingMessage[], error: e };
  }
  return { messages: asm.out as IncomingMessage[], error: undefined };
}

/** Runs bytes through a WebSocketDecoderStream; resolves with the messages and the error (if the stream failed). */
export async function decodeStream(
  chunks: Uint8Array[] | Uint8Array,
  o: Partial<DecoderOptions> & { role?: Role } = {},
): Promise<{ messages: IncomingMessage[]; error: unknown }> {
  const list = (chunks instanceof Uint8Array ? [chunks] : chunks).map((c) => c.slice());
  const src = fromChunks(list);
  const messages: IncomingMessage[] = [];
  const reader = src.pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: 'server', ...o })).getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      messages.push(r.value);
    }
  } catch (e) {
    return { messages, error: e };
  }
  return { messages, error: undefined };
}

export function fromChunks<T>(list: T[]): ReadableStream<T> {
  let i = 0;
  return new ReadableStream<T>({
    pull(c) {
      if (i < list.length) c.enqueue(list[i++]!);
      else c.close();
    },
  });
}

export async function collect<T>(s: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  const r = s.getReader();
  for (;;) {
    const x = await r.read();
    if (x.done) return out;
    out.push(x.value);
  }
}

/** A deterministic pseudo-random byte generator (tests must be reproducible). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function randomBytes(n: number, seed = 1): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r() & 0xff;
  return out;
}

/** Messages with byte payloads turned into plain arrays, for readable deep-equality failures. */
export function norm(list: IncomingMessage[]): unknown[] {
  return list.map((m) => ('data' in m && m.data instanceof Uint8Array ? { ...m, data: Array.from(m.data) } : m));
}

/** The chunkings every conformance expectation is checked under: as given, whole, one byte at a time, uneven. */
function chunkings(input: Uint8Array[], all: Uint8Array, byteByByte: boolean): Uint8Array[][] {
  const list = [input, [all], split(all, [3, 7, 1, 13])];
  if (byteByByte) list.push(split(all, [1]));
  return list;
}

type Opts = Partial<DecoderOptions> & { role?: Role };

/**
 * Asserts that the input decodes to exactly `expected`, through the synchronous cores under several chunkings and
 * through the fused WebSocketDecoderStream.
 */
export async function expectMessages(input: Uint8Array[] | Uint8Array, expected: IncomingMessage[], o: Opts = {}): Promise<void> {
  const list = input instanceof Uint8Array ? [input] : input;
  const all = concatBytes(list);
  const want = norm(expected);
  for (const chunks of chunkings(list, all, all.length <= 4096)) {
    const r = decodeSync(chunks, o);
    if (r.error) throw new Error(`unexpected ${r.error.closeCode} ${r.error.code}: ${r.error.message}`);
    assertEqual(norm(r.messages), want);
  }
  const s = await decodeStream(list, o);
  if (s.error) throw s.error;
  assertEqual(norm(s.messages), want);
}

/**
 * Asserts that decoding fails with `closeCode` after delivering exactly `before`, through the synchronous cores
 * under several chunkings and through the fused stream (whose error must be the CodecError too).
 */
export async function expectFailure(
  input: Uint8Array[] | Uint8Array,
  closeCode: number,
  before: IncomingMessage[] = [],
  o: Opts = {},
): Promise<CodecError> {
  const list = input instanceof Uint8Array ? [input] : input;
  const all = concatBytes(list);
  const want = norm(before);
  let last: CodecError | undefined;
  for (const chunks of chunkings(list, all, all.length <= 4096)) {
    const r = decodeSync(chunks, o);
    if (!r.error) throw new Error(`expected close code ${closeCode}, decoded ${JSON.stringify(norm(r.messages))}`);
    assertEqual(r.error.closeCode, closeCode);
    assertEqual(norm(r.messages), want);
    last = r.error;
  }
  const s = await decodeStream(list, o);
  if (!(s.error instanceof CodecError)) throw new Error(`stream did not fail with a CodecError: ${String(s.error)}`);
  assertEqual(s.error.closeCode, closeCode);
  assertEqual(norm(s.messages), want);
  return last!;
}

function assertEqual(a: unknown, b: unknown): void {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x !== y) throw new Error(`expected ${y.slice(0, 400)}\n     got ${x.slice(0, 400)}`);
}
