// A real MQTT broker for the example and its test: Debian's mosquitto, installed with apt-get when missing, started
// on a free loopback port with a temporary configuration that has one WebSocket listener and nothing else
// (no persistence, no default 1883 listener, anonymous clients allowed because it is reachable only locally).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

export function findMosquitto() {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Returns the broker's path, installing Debian's package first if needed (root, as CI is). */
export function ensureMosquitto() {
  const found = findMosquitto();
  if (found) return found;
  console.log('installing Debian mosquitto ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // The package lists may be empty or stale on a fresh machine: update first, or install finds nothing.
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) throw new Error('apt-get update failed');
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'mosquitto'], { stdio: 'inherit', env });
  const path = findMosquitto();
  if (install.status !== 0 || !path) throw new Error('apt-get install mosquitto failed');
  return path;
}

/** A port the kernel just handed out. A tiny race remains (mosquitto cannot listen on 0 and tell us the port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Two mosquitto 2.0.x quirks (Debian ships 2.0.11) shape this file:
// - a configuration whose only listener is a WebSocket one fails with "Unable to start any listening sockets"
//   (libwebsockets keeps its listening socket to itself), so a plain MQTT listener sits beside it, on loopback too;
// - the WebSocket listener ignores its address and binds every interface unless `socket_domain ipv4` is given:
//   with it, libwebsockets binds exactly 127.0.0.1.
export function brokerConfig(port, nativePort) {
  return [
    `listener ${nativePort} 127.0.0.1`,
    `listener ${port} 127.0.0.1`,
    'protocol websockets',
    'socket_domain ipv4',
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Starts mosquitto; resolves once its listener accepts connections. `stop()` ends it and removes the config. */
export async function startBroker({ timeoutMs = 10_000 } = {}) {
  const bin = ensureMosquitto();
  const port = await freePort();
  let nativePort = await freePort();
  while (nativePort === port) nativePort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'streamsocket-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, brokerConfig(port, nativePort));
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  const done = new Promise((resolve) => child.once('exit', (code, signal) => { exited = { code, signal }; resolve(); }));
  const stop = async () => {
    if (!exited) { child.kill('SIGTERM'); await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]); }
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not start (${exited ? `exit ${exited.code}` : 'timeout'}): ${log.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, url: `ws://127.0.0.1:${port}/`, stop, log: () => log };
}
