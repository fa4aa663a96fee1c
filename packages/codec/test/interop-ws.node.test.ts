// Wire compatibility with the `ws` library's framing (Node only: ws needs Node's Buffer and streams). Messages
// encoded by our FrameEncoder/MessageFramer are parsed by ws's Receiver, and frames built by ws's Sender.frame are
// decoded by our FrameDecoder + MessageAssembler, both roles, with fragmentation and chunk splitting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { FrameDecoder, FrameEncoder, MessageAssembler, MessageFramer, type IncomingMessage, type OutgoingMessage } from '../src/index.js';
import { concatBytes, norm, randomBytes, split } from './_helpers.js';

const load = createRequire(import.meta.url);
const ws = load('ws');
const Receiver = ws.Receiver;
const Sender = ws.Sender;

const messages: OutgoingMessage[] = [
  { type: 'text', data: 'hello' },
  { type: 'text', data: 'ünïcödé 😀'.repeat(50) },
  { type: 'binary', data: randomBytes(70_000, 3) },
  { type: 'binary', data: new Uint8Array(0) },
  { type: 'ping', data: Uint8Array.of(1, 2, 3) },
  { type: 'pong', data: new Uint8Array(0) },
  { type: 'text', data: '' },
];

const host = { flush(): void {}, ready: async (): Promise<void> => {} };

function encodeOurs(role: 'client' | 'server', fragmentSize?: number): Uint8Array {
  const enc = new FrameEncoder({ role });
  const out: Uint8Array[] = [];
  enc.out = out;
  const framer = new MessageFramer(fragmentSize ? { role, fragmentSize } : { role }, enc, null);
  for (const m of messages) framer.write(m, host);
  framer.write({ type: 'close', code: 1000, reason: 'bye' }, host);
  return concatBytes(out);
}

function receiveWithWs(wire: Uint8Array, isServer: boolean): unknown[] {
  const got: unknown[] = [];
  const r = new Receiver({ isServer, binaryType: 'nodebuffer' });
  r.on('message', (data: Buffer, isBinary: boolean) => got.push(isBinary ? { type: 'binary', data: Array.from(data) } : { type: 'text', data: data.toString() }));
  r.on('ping', (d: Buffer) => got.push({ type: 'ping', data: Array.from(d) }));
  r.on('pong', (d: Buffer) => got.push({ type: 'pong', data: Array.from(d) }));
  r.on('conclude', (code: number, reason: Buffer) => got.push({ type: 'close', code, reason: reason.toString() }));
  r.on('error', (e: Error) => got.push({ error: e.message }));
  for (const c of split(wire, [1000, 7, 65536])) r.write(Buffer.from(c));
  return got;
}

const expected = [
  ...norm(messages as IncomingMessage[]),
  { type: 'close', code: 1000, reason: 'bye' },
];

for (const [role, fragmentSize] of [['client', undefined], ['server', undefined], ['client', 100], ['server', 4096]] as const) {
  test(`ours (${role}${fragmentSize ? `, fragments of ${fragmentSize}` : ''}) -> ws Receiver`, () => {
    const wire = encodeOurs(role, fragmentSize);
    assert.equal(receiveWithWs(wire, role === 'client'), expected);
  });
}

function sendWithWs(mask: boolean, fragment: number): Uint8Array {
  const chunks: Buffer[] = [];
  const frame = (data: Buffer, opcode: number, fin: boolean): void => {
    for (const c of Sender.frame(data, { fin, rsv1: false, opcode, mask, readOnly: true })) chunks.push(Buffer.from(c));
  };
  for (const m of messages) {
    if (m.type === 'ping' || m.type === 'pong') {
      frame(Buffer.from(m.data as Uint8Array), m.type === 'ping' ? 9 : 10, true);
      continue;
    }
    const bytes = m.type === 'text' ? Buffer.from(m.data as string) : Buffer.from((m as { data: Uint8Array }).data);
    const opcode = m.type === 'text' ? 1 : 2;
    if (bytes.length <= fragment) frame(bytes, opcode, true);
    else for (let o = 0; o < bytes.length; o += fragment) frame(bytes.subarray(o, o + fragment), o === 0 ? opcode : 0, o + fragment >= bytes.length);
  }
  const close = Buffer.alloc(5);
  close.writeUInt16BE(1000, 0);
  close.write('bye', 2);
  frame(close, 8, true);
  return new Uint8Array(Buffer.concat(chunks));
}

for (const [mask, fragment] of [[true, Infinity], [false, Infinity], [true, 333], [false, 10_000]] as const) {
  test(`ws Sender.frame (${mask ? 'masked' : 'unmasked'}${fragment !== Infinity ? `, fragments of ${fragment}` : ''}) -> ours`, () => {
    const wire = sendWithWs(mask, fragment);
    const dec = new FrameDecoder({ role: mask ? 'server' : 'client' });
    const asm = new MessageAssembler({ maxMessageSize: 1 << 26, deflate: false, streamMessages: false, trusted: true });
    for (const c of split(wire, [999, 1, 64 * 1024])) dec.decode(c, asm);
    assert.equal(norm(asm.out as IncomingMessage[]), expected);
  });
}

test.run();
