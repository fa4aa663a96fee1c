/**
 * The interop checklist, run by our client against any echo server (ours, or the `ws` package's). The server
 * must echo every message as it came (text as text, binary as binary) and, on the text command
 * `__close <code> <reason>`, close with that code and reason. `lastServerClose()` returns what the server saw
 * in the close frame of the connection it served last.
 */
import * as assert from 'uvu/assert';
import type { WebSocketStream } from '../src/index.js';
import { within, bytes, equalBytes } from './helpers.js';

export interface ChecklistTarget {
  open(protocols?: string[]): WebSocketStream;
  lastServerClose(): Promise<{ code: number; reason: string }>;
  /** Whether the connection is expected to negotiate permessage-deflate. */
  deflate: boolean;
}

type Msg = string | Uint8Array;

async function session(t: ChecklistTarget, protocols?: string[]) {
  const ws = t.open(protocols);
  const info = await within(ws.opened, 5000, 'opened');
  const writer = info.writable.getWriter();
  const reader = info.readable.getReader();
  const read = async (): Promise<Msg> => {
    const r = await within(reader.read(), 10_000, 'read');
    if (r.done) throw new Error('readable ended');
    return r.value;
  };
  return { ws, info, writer, reader, read };
}

export async function checkMessages(t: ChecklistTarget): Promise<void> {
  const s = await session(t);
  if (t.deflate) assert.match(s.info.extensions, /permessage-deflate/);
  else assert.is(s.info.extensions, '');
  const text = 'héllo wörld ✓ 𝄞 日本語 — ';
  await s.writer.write(text);
  assert.is(await s.read(), text);
  const bin = bytes(1500, 3);
  await s.writer.write(bin);
  const got = await s.read();
  assert.instance(got, Uint8Array);
  assert.ok(equalBytes(got as Uint8Array, bin), 'binary round trip');
  await s.writer.write('');
  assert.is(await s.read(), '');
  await s.writer.write(new Uint8Array(0));
  const e = await s.read();
  assert.instance(e, Uint8Array);
  assert.is((e as Uint8Array).byteLength, 0);
  s.ws.close({ closeCode: 4001, reason: 'done ✓' });
  const c = await within(s.ws.closed, 5000, 'closed');
  assert.is(c.closeCode, 4001);
  const sc = await within(t.lastServerClose(), 5000, 'server close info');
  assert.is(sc.code, 4001);
  assert.is(sc.reason, 'done ✓');
}

export async function checkLarge(t: ChecklistTarget): Promise<void> {
  const s = await session(t);
  // 16 MiB, the default message limit; mildly compressible so the deflate run stays quick on a shared machine.
  const big = new Uint8Array(16 * 1024 * 1024);
  const seed = bytes(64 * 1024, 7);
  for (let o = 0; o < big.byteLength; o += seed.byteLength) big.set(seed.subarray(0, Math.min(seed.byteLength, big.byteLength - o)), o);
  for (let i = 0; i < big.byteLength; i += 4099) big[i] = i & 0xff;
  const written = s.writer.write(big);
  const got = (await within(s.read(), 15_000, '16 MiB echo')) as Uint8Array;
  await written;
  assert.is(got.byteLength, big.byteLength);
  assert.ok(equalBytes(got, big), '16 MiB intact');
  s.ws.close({ closeCode: 1000 });
  await within(s.ws.closed, 5000, 'closed');
}

export async function checkManySmall(t: ChecklistTarget, n = 10_000): Promise<void> {
  const s = await session(t);
  const reading = (async () => {
    for (let i = 0; i < n; i++) {
      const m = await s.read();
      if (i % 2 === 0) {
        if (m !== `m${i}`) throw new Error(`message ${i}: ${String(m)}`);
      } else if (!(m instanceof Uint8Array) || m.byteLength !== 4 || new DataView(m.buffer, m.byteOffset).getUint32(0) !== i) {
        throw new Error(`message ${i} (binary) wrong`);
      }
    }
  })();
  // All in flight: write without waiting for echoes (only for the writer's own backpressure).
  for (let i = 0; i < n; i++) {
    if ((s.writer.desiredSize ?? 1) <= 0) await within(s.writer.ready, 10_000, 'writer ready');
    if (i % 2 === 0) void s.writer.write(`m${i}`).catch(() => {});
    else {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, i);
      void s.writer.write(b).catch(() => {});
    }
  }
  await within(reading, 15_000, `${n} echoes`);
  s.ws.close({ closeCode: 1000 });
  await within(s.ws.closed, 5000, 'closed');
}

export async function checkProtocolPingAndServerClose(t: ChecklistTarget): Promise<void> {
  const s = await session(t, ['mqtt', 'chat']);
  assert.is(s.ws.protocol, 'chat');
  assert.is(s.info.protocol, 'chat');
  await within(s.ws.ping(new Uint8Array([1, 2, 3])), 5000, 'pong');
  await s.writer.write('__close 4002 server says bye ✓');
  const c = await within(s.ws.closed, 5000, 'closed');
  assert.is(c.closeCode, 4002);
  assert.is(c.reason, 'server says bye ✓');
}

export async function runChecklist(t: ChecklistTarget): Promise<void> {
  await checkMessages(t);
  await checkProtocolPingAndServerClose(t);
  await checkManySmall(t);
  await checkLarge(t);
}

/** Parses the `__close <code> <reason>` command; null for any other message. */
export function closeCommand(m: unknown): { code: number; reason: string } | null {
  if (typeof m !== 'string' || !m.startsWith('__close ')) return null;
  const rest = m.slice(8);
  const sp = rest.indexOf(' ');
  return { code: Number(rest.slice(0, sp)), reason: rest.slice(sp + 1) };
}
