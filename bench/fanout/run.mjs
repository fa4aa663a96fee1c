// Fan-out benchmark: one message published to N subscribers, against the usual ways of doing it.
//
//   node bench/fanout/run.mjs                 every server, 1,000 and 10,000 subscribers, 16 B and 1 KiB, Redis latency
//   options: --servers a,b  --subs 1000,10000  --sizes 16,1024  --rounds N (single publishes timed, default 20)
//            --no-redis  --no-memory  --list  --out FILE (default results/fanout.json: the recorded run)
// (after `npm run build`: the servers import the packages' dist/)
//
// Each cell starts the server (its own process), opens N subscriber connections and one publisher connection from
// this process (raw sockets with a minimal WebSocket client: the handshake, then bytes are only counted, so the
// client side costs next to nothing per message), waits until every subscriber is subscribed (a first message has
// reached all of them), then:
//   - latency: `rounds` times, the publisher sends one message; the time until every subscriber has received it
//     in full; the median is reported;
//   - throughput: the publisher sends K messages back to back; publishes/s = K / (time until every subscriber has
//     all K), K = max(10, 200,000 / N).
// Every server excludes the publisher from the fan-out. See README.md beside this file.
import { spawn } from 'node:child_process';
import { connect as tcp } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { runtimeCommand } from '../../packages/devtools/runtimes.mjs';
import { startRedis } from '../../packages/devtools/redis.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (n, d) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d;
};
const flag = (n) => argv.includes(`--${n}`);

const SERVERS = {
  'streamsocket-node': { label: '@streamsocket/node serve() + publish', runtime: 'node', file: 'servers/ours-node.mjs', flags: ['--expose-gc'] },
  ws: { label: 'ws, loop over wss.clients', runtime: 'node', file: 'servers/ws-node.mjs' },
  'crossws-node': { label: 'crossws (node adapter) peer.publish', runtime: 'node', file: 'servers/crossws-node.mjs' },
  'streamsocket-bun': { label: '@streamsocket/bun serve() + publish', runtime: 'bun', file: 'servers/ours-bun.ts' },
  'bun-native': { label: 'Bun.serve ws.publish', runtime: 'bun', file: 'servers/bun-native.ts' },
};
if (flag('list')) {
  for (const [id, s] of Object.entries(SERVERS)) console.log(`${id.padEnd(20)} ${s.label}`);
  process.exit(0);
}
const servers = opt('servers', Object.keys(SERVERS).join(',')).split(',');
const subsList = opt('subs', '1000,10000').split(',').map(Number);
const sizes = opt('sizes', '16,1024').split(',').map(Number);
const rounds = Number(opt('rounds', 20));

// ---- processes ---------------------------------------------------------------------------------------------------

function startServer(id, env = {}) {
  const s = SERVERS[id];
  const [cmd, args] = runtimeCommand(s.runtime);
  const child = spawn(cmd, [...args, ...(s.flags ?? []), join(here, s.file)], { cwd: here, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const gone = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`${id}: no PORT line in 20 s:\n${out}`)); }, 20_000);
    child.stdout.on('data', () => {
      const m = /PORT (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ port: Number(m[1]), stop, output: () => out }); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${id} exited (${code}):\n${out}`)); });
  });
}

// ---- a minimal client: handshake, then count bytes -----------------------------------------------------------------

function open(port, onData) {
  return new Promise((resolve, reject) => {
    const sock = tcp({ port, host: '127.0.0.1' });
    sock.setNoDelay(true);
    let head = Buffer.alloc(0);
    let upgraded = false;
    sock.once('error', reject);
    sock.on('connect', () => sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    sock.on('data', (chunk) => {
      if (upgraded) return onData(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.subarray(0, 12).toString().includes(' 101')) return reject(new Error(`refused: ${head.subarray(0, end)}`));
      upgraded = true;
      sock.removeListener('error', reject);
      sock.on('error', () => {});
      resolve(sock);
      if (head.byteLength > end + 4) onData(head.subarray(end + 4));
    });
  });
}

/** A masked client frame (zero key: the payload goes as is). */
function clientFrame(opcode, payload) {
  const n = payload.byteLength;
  const h = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n]) : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 255]);
  return Buffer.concat([h, Buffer.alloc(4), payload]);
}

async function openMany(port, n, onData, concurrency = 200) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await open(port, (c) => onData(i, c));
    }
  }));
  return out;
}

// ---- one cell ----------------------------------------------------------------------------------------------------

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function cell(id, n, size) {
  const server = await startServer(id);
  const socks = [];
  try {
    const frameSize = size + (size < 126 ? 2 : 4);
    const bytes = new Float64Array(n);
    const count = new Int32Array(n);
    let target = 0;
    let waiting = 0;
    let resolveRound = null;
    const subs = await openMany(server.port, n, (i, c) => {
      bytes[i] += c.byteLength;
      const k = Math.floor(bytes[i] / frameSize);
      if (count[i] < target && k >= target && --waiting === 0) resolveRound?.();
      count[i] = k;
    });
    socks.push(...subs);
    const pub = await open(server.port, () => {});
    socks.push(pub);
    const frame = clientFrame(2, randomBytes(size));
    const publish = async (k) => {
      target += k;
      waiting = 0;
      for (let i = 0; i < n; i++) if (count[i] < target) waiting++;
      const done = new Promise((r) => { resolveRound = r; });
      const t0 = performance.now();
      pub.write(k === 1 ? frame : Buffer.concat(Array(k).fill(frame)));
      let timer;
      await Promise.race([done, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${id}: ${waiting} of ${n} subscribers still waiting after 60 s`)), 60_000); })]);
      clearTimeout(timer);
      return performance.now() - t0;
    };
    // Subscribed everywhere once a first message reached everyone (servers subscribe on open).
    for (let tries = 0; ; tries++) {
      try {
        await publish(1);
        break;
      } catch (e) {
        if (tries > 2) throw e;
      }
    }
    const lat = [];
    for (let r = 0; r < rounds; r++) lat.push(await publish(1));
    const K = Math.max(10, Math.floor(200_000 / n));
    const t = await publish(K);
    return { server: id, subscribers: n, size, latencyMs: median(lat), latencyP90Ms: pct(lat, 0.9), publishesPerSec: (K / t) * 1000, burst: K };
  } finally {
    for (const s of socks) s.destroy();
    await server.stop();
  }
}

/** Heap per subscription in our Node server: N connections, then each subscribes to 10 more topics. */
async function memoryPerSubscription(n = 2000, topicsEach = 10, first = false) {
  const server = await startServer('streamsocket-node', first ? { NO_AUTO_SUBSCRIBE: '1' } : {});
  const socks = [];
  try {
    let reply = null;
    let buf = Buffer.alloc(0);
    const subs = await openMany(server.port, n, () => {});
    socks.push(...subs);
    const ctl = await open(server.port, (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.byteLength >= 2 && buf.byteLength >= 2 + (buf[1] & 127)) {
        reply?.(Number(buf.subarray(2, 2 + (buf[1] & 127)).toString()));
        buf = Buffer.alloc(0);
      }
    });
    socks.push(ctl);
    const heap = async () => {
      await new Promise((r) => setTimeout(r, 300));
      const p = new Promise((r) => { reply = r; });
      ctl.write(clientFrame(1, Buffer.from('M')));
      return p;
    };
    const before = await heap();
    const cmd = clientFrame(1, Buffer.from(`S${topicsEach}`));
    for (const s of subs) s.write(cmd);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await heap();
    return { connections: n, topicsEach, firstSubscriptions: first, bytesPerSubscription: (after - before) / (n * topicsEach) };
  } finally {
    for (const s of socks) s.destroy();
    await server.stop();
  }
}

/** Publish in one process, receive in another, through a real redis-server: p50/p99 of one 16-byte message. */
async function redisLatency(samples = 500) {
  const redis = await startRedis();
  const a = await startServer('streamsocket-node', { REDIS_URL: redis.url });
  const b = await startServer('streamsocket-node', { REDIS_URL: redis.url });
  const socks = [];
  try {
    let arrived = null;
    const sub = await open(b.port, () => arrived?.());
    const pub = await open(a.port, () => {});
    socks.push(sub, pub);
    const frame = clientFrame(2, randomBytes(16));
    const one = async () => {
      const got = new Promise((r) => { arrived = r; });
      const t0 = performance.now();
      pub.write(frame);
      let timer;
      await Promise.race([got, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('no message through Redis in 5 s')), 5000); })]);
      clearTimeout(timer);
      return performance.now() - t0;
    };
    for (let tries = 0; ; tries++) {
      try { await one(); break; } catch (e) { if (tries > 5) throw e; }
    }
    const xs = [];
    for (let i = 0; i < samples; i++) {
      xs.push(await one());
      await new Promise((r) => setTimeout(r, 2));
    }
    return { samples, p50Ms: pct(xs, 0.5), p99Ms: pct(xs, 0.99) };
  } finally {
    for (const s of socks) s.destroy();
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
}

// ---- run ---------------------------------------------------------------------------------------------------------

const results = { when: new Date().toISOString(), node: process.version, cpus: cpus().length, cells: [], memory: null, redis: null };
for (const n of subsList) {
  for (const size of sizes) {
    for (const id of servers) {
      try {
        const r = await cell(id, n, size);
        results.cells.push(r);
        console.log(`${id.padEnd(18)} ${String(n).padStart(6)} subs ${String(size).padStart(5)} B: all have it after ${r.latencyMs.toFixed(2)} ms (p90 ${r.latencyP90Ms.toFixed(2)}), ${r.publishesPerSec.toFixed(0)} publishes/s (burst ${r.burst})`);
      } catch (e) {
        console.log(`${id.padEnd(18)} ${String(n).padStart(6)} subs ${String(size).padStart(5)} B: failed: ${String(e.message).split('\n')[0]}`);
        results.cells.push({ server: id, subscribers: n, size, error: String(e.message) });
      }
    }
  }
}
if (!flag('no-memory')) {
  results.memory = await memoryPerSubscription();
  console.log(`memory: ${results.memory.bytesPerSubscription.toFixed(0)} bytes of heap per subscription (${results.memory.connections} connections x ${results.memory.topicsEach} more topics)`);
  results.memoryFirst = await memoryPerSubscription(2000, 1, true);
  console.log(`memory: ${results.memoryFirst.bytesPerSubscription.toFixed(0)} bytes of heap for a connection's first subscription (${results.memoryFirst.connections} connections)`);
}
if (!flag('no-redis')) {
  results.redis = await redisLatency();
  console.log(`redis: one process to another through Redis, ${results.redis.samples} messages: p50 ${results.redis.p50Ms.toFixed(2)} ms, p99 ${results.redis.p99Ms.toFixed(2)} ms`);
}
const out = opt('out', join(here, 'results', 'fanout.json'));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
