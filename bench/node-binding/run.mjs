// Compares two ways of turning a Node TCP socket into WHATWG streams, over loopback:
//   ours    — @streamsocket/node's socketChannel() (the session's Channel: zero-copy views, 'drain'-driven writes)
//   toWeb   — stream.Duplex.toWeb(socket) (Node's built-in adapter)
// Both ends of each connection use the same binding; the sender writes through the writable, the receiver reads
// through the readable, so each figure covers both directions of the binding.
//
//   node bench/node-binding/run.mjs [--large-mib 256] [--small-count 100000] [--small-size 64] [--rounds 3]
//
// Two workloads: one large transfer in 64 KiB chunks (throughput) and many small chunks (per-chunk overhead).
// Prints the median of `rounds` runs per binding. Keep it short: the machine is shared.
import { build } from 'esbuild';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const LARGE_MIB = arg('large-mib', 256);
const SMALL_COUNT = arg('small-count', 100_000);
const SMALL_SIZE = arg('small-size', 64);
const ROUNDS = arg('rounds', 3);

// Bundle the TypeScript source once so the bench needs no build step.
const dir = mkdtempSync(join(tmpdir(), 'ss-bench-'));
const out = join(dir, 'socket-channel.mjs');
await build({
  entryPoints: [join(root, 'packages/node/src/socket-channel.ts')],
  outfile: out, bundle: true, format: 'esm', platform: 'node', target: 'es2022', logLevel: 'error',
});
const { socketChannel } = await import(out);
rmSync(dir, { recursive: true, force: true });

const bindings = {
  ours: (s) => socketChannel(s),
  ...(process.env.HWM_SWEEP ? { ours16k: (s) => socketChannel(s, { readHighWaterMark: 16384 }), ours256k: (s) => socketChannel(s, { readHighWaterMark: 262144 }) } : {}),
  toWeb: (s) => Duplex.toWeb(s),
};

/** A connected pair of sockets over 127.0.0.1. */
async function socketPair() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise((r) => server.once('connection', r));
  const client = net.connect(server.address().port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const srv = await accepted;
  server.close();
  return [client, srv];
}

async function transfer(bind, chunk, count) {
  const [a, b] = await socketPair();
  a.setNoDelay(true);
  const sender = bind(a);
  const receiver = bind(b);
  const total = chunk.byteLength * count;
  const t0 = process.hrtime.bigint();
  const send = (async () => {
    const w = sender.writable.getWriter();
    for (let i = 0; i < count; i++) {
      // Respect backpressure the way the session does: wait for `ready`, don't await every write.
      if (w.desiredSize <= 0) await w.ready;
      w.write(chunk).catch(() => {});
    }
    await w.close();
  })();
  let got = 0;
  const r = receiver.readable.getReader();
  for (;;) {
    const { value, done } = await r.read();
    if (done) break;
    got += value.byteLength;
  }
  await send;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (got !== total) throw new Error(`lost bytes: ${got} of ${total}`);
  await receiver.writable.close().catch(() => {});
  a.destroy();
  b.destroy();
  return ms;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const large = new Uint8Array(64 * 1024).fill(7);
const small = new Uint8Array(SMALL_SIZE).fill(9);
const largeCount = (LARGE_MIB * 1024 * 1024) / large.byteLength;

console.log(`node ${process.version}, ${LARGE_MIB} MiB in 64 KiB chunks; ${SMALL_COUNT} chunks of ${SMALL_SIZE} B; median of ${ROUNDS}`);
const results = {};
for (const [name, bind] of Object.entries(bindings)) {
  const l = [], s = [];
  for (let i = 0; i < ROUNDS; i++) {
    l.push(await transfer(bind, large, largeCount));
    s.push(await transfer(bind, small, SMALL_COUNT));
  }
  const lm = median(l), sm = median(s);
  results[name] = { lm, sm };
  console.log(
    `${name.padEnd(6)} large: ${(LARGE_MIB / (lm / 1000)).toFixed(0).padStart(5)} MiB/s (${lm.toFixed(0)} ms)` +
      `   small: ${((SMALL_COUNT / (sm / 1000)) / 1e3).toFixed(0).padStart(5)} k chunks/s (${sm.toFixed(0)} ms)`,
  );
}
console.log(
  `ours vs toWeb: large x${(results.toWeb.lm / results.ours.lm).toFixed(2)}, small x${(results.toWeb.sm / results.ours.sm).toFixed(2)}`,
);
