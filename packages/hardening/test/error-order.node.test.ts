/**
 * One order of bytes on every runtime: what the application wrote before a protocol error is sent before the
 * close frame. The shapes of Autobahn TestSuite cases 3.2-3.4 (reserved bits), 4.1.3-4.1.5 (reserved data
 * opcodes), 4.2.3-4.2.5 (reserved control opcodes) and 5.15 (a continuation with nothing to continue), each a
 * valid message followed by the error (and a ping), written at once, frame by frame, or byte by byte, against an
 * echo server on each adapter: Node in this process, Deno and Bun in their own (test/fixtures/runtime-server.mjs).
 * The echo of the valid message must arrive, then our close frame with 1002, and nothing after it (no pong).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { serve } from '@streamsocket/node';
import { RUNTIMES, start } from './_runtimes.js';
import { RawPeer, clientFrame, cleanup, sleep, tracked, until } from './_net.js';

type Chop = 'at once' | 'frame by frame' | 'byte by byte';

interface Case {
  id: string;
  frames: Uint8Array[];
  chop: Chop;
  /** The messages the echo server answers before the error. */
  echoed: string[];
}

const HELLO = 'Hello, World!';

/** A text frame with reserved bits set (`rsv`: the 3-bit RSV field, as Autobahn names it). */
function withRsv(rsv: number, payload: string): Uint8Array {
  const f = clientFrame(1, payload);
  f[0] = (f[0]! & 0x8f) | (rsv << 4);
  return f;
}

const ping = (): Uint8Array => clientFrame(9, '');
const text = (s: string, fin = true): Uint8Array => clientFrame(1, s, fin);

const CASES: Case[] = [
  { id: '3.2', frames: [text(HELLO), withRsv(2, HELLO), ping()], chop: 'at once', echoed: [HELLO] },
  { id: '3.3', frames: [text(HELLO), withRsv(3, HELLO), ping()], chop: 'frame by frame', echoed: [HELLO] },
  { id: '3.4', frames: [text(HELLO), withRsv(4, HELLO), ping()], chop: 'byte by byte', echoed: [HELLO] },
  { id: '4.1.3', frames: [text(HELLO), clientFrame(5), ping()], chop: 'at once', echoed: [HELLO] },
  { id: '4.1.4', frames: [text(HELLO), clientFrame(6, 'reserved'), ping()], chop: 'frame by frame', echoed: [HELLO] },
  { id: '4.1.5', frames: [text(HELLO), clientFrame(7, 'reserved'), ping()], chop: 'byte by byte', echoed: [HELLO] },
  { id: '4.2.3', frames: [text(HELLO), clientFrame(13), ping()], chop: 'at once', echoed: [HELLO] },
  { id: '4.2.4', frames: [text(HELLO), clientFrame(14, 'reserved'), ping()], chop: 'frame by frame', echoed: [HELLO] },
  { id: '4.2.5', frames: [text(HELLO), clientFrame(15, 'reserved'), ping()], chop: 'byte by byte', echoed: [HELLO] },
  {
    id: '5.15',
    frames: [text('fragment1', false), clientFrame(0, 'fragment2'), clientFrame(0, 'fragment3', false), text('fragment4')],
    chop: 'at once',
    echoed: ['fragment1fragment2'],
  },
];

async function send(p: RawPeer, frames: Uint8Array[], chop: Chop): Promise<void> {
  p.socket.setNoDelay(true);
  if (chop === 'at once') {
    p.write(Buffer.concat(frames));
    return;
  }
  for (const f of frames) {
    if (chop === 'frame by frame') p.write(f);
    else for (const b of f) p.write(new Uint8Array([b]));
    await sleep(5);
  }
}

/** Runs every case against the echo server on `port`; returns a line per case. */
async function runCases(port: number): Promise<string[]> {
  const lines: string[] = [];
  for (const c of CASES) {
    const p = new RawPeer(port);
    await p.upgrade(port);
    await send(p, c.frames, c.chop);
    await until(() => p.closeCode() !== null || p.closed, 5000, `case ${c.id}: close frame`);
    const frames = p.frames();
    const closeAt = frames.findIndex((f) => f.opcode === 8);
    const before = frames.slice(0, closeAt < 0 ? frames.length : closeAt);
    const got = before.filter((f) => f.opcode === 1).map((f) => f.payload.toString('utf8'));
    assert.equal(got, c.echoed, `case ${c.id} (${c.chop}): the echo precedes the close`);
    assert.is(p.closeCode(), 1002, `case ${c.id}: closed with 1002`);
    assert.is(frames.slice(closeAt + 1).length, 0, `case ${c.id}: nothing after the close frame`);
    assert.not.ok(before.some((f) => f.opcode === 10), `case ${c.id}: the ping after the error is not answered`);
    await p.waitClosed(5000);
    lines.push(`${c.id} (${c.chop}): echo, then close 1002`);
  }
  return lines;
}

test('node: the echo of the message before a protocol error is sent before the close frame (Autobahn 3.2-3.4, 4.1.3-5, 4.2.3-5, 5.15)', async () => {
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  }));
  const { port } = await server.ready;
  assert.is((await runCases(port)).length, CASES.length);
});

for (const runtime of ['deno', 'bun'] as const) {
  test(`${runtime}: the echo of the message before a protocol error is sent before the close frame`, async () => {
    if (!existsSync(RUNTIMES[runtime].bin)) {
      // A missing runtime is a failure, never a silent pass: npm test installs the runtimes before any suite.
      throw new Error(`${RUNTIMES[runtime].bin} missing (npm test installs the runtimes)`);
    }
    const s = await start(runtime, {});
    try {
      assert.is((await runCases(s.port)).length, CASES.length);
    } finally {
      s.stop();
    }
  });
}

test.after.each(cleanup);
test.run();
