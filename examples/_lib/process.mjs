// What the examples' tests share: start a program in Node, Deno or Bun, wait for the line that says where it
// listens, stop it (SIGTERM, then SIGKILL after 3 s); and a small WebSocket client session that reads messages
// with a time bound.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runtimeCommand, ensureTools } from '../../packages/devtools/runtimes.mjs';

/** Makes sure Deno and Bun are installed (.tools/) before a test needs them. */
export function ensureRuntimes() {
  if (!['deno', 'bun'].every((r) => existsSync(runtimeCommand(r)[0]))) ensureTools();
}

/**
 * Starts `file` (in `cwd`) under `runtime`; resolves once its output matches `ready` (the first group is handed
 * back as `url`), within `timeoutMs`.
 */
export function start(runtime, file, { cwd, ready, env = {}, timeoutMs = 20_000 }) {
  const [cmd, args] = runtimeCommand(runtime);
  const child = spawn(cmd, [...args, file], { cwd, env: { ...process.env, PORT: '0', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let exited = false;
  const gone = new Promise((r) => child.once('exit', () => { exited = true; r(); }));
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`${runtime} ${file}: not ready after ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
    const check = () => {
      const m = ready.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], stop, output: () => out, child }); }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); if (!ready.test(out)) reject(new Error(`${runtime} ${file} exited (${code}):\n${out}`)); });
  });
}

/**
 * WebSocket helpers over a client's `connect` (@streamsocket/node's, passed in: this folder is no package):
 * `client(url)` opens one whose `next()` reads a message (bounded) and `send()` writes one; `upgradeStatus(url)`
 * is the HTTP status of a refused upgrade (101 when accepted).
 */
export function wsHelpers(connect) {
  return { client: (url, options) => client(connect, url, options), upgradeStatus: (url, options) => upgradeStatus(connect, url, options) };
}

async function client(connect, url, options = {}) {
  const ws = connect(url, { connectTimeout: 5000, ...options });
  const { readable, writable, protocol } = await ws.opened;
  const reader = readable.getReader();
  const writer = writable.getWriter();
  // A read that timed out stays pending and is reused by the next call, so no message is lost to it.
  let pending = null;
  const next = async (ms = 5000) => {
    let t;
    const timeout = new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`no message within ${ms} ms`)), ms); });
    pending ??= reader.read();
    try {
      const r = await Promise.race([pending, timeout]);
      pending = null;
      return r.value;
    } finally {
      clearTimeout(t);
    }
  };
  return { ws, protocol, next, send: (m) => writer.write(m), close: (closeCode = 1000, reason = '') => { ws.close({ closeCode, reason }); return ws.closed; } };
}

async function upgradeStatus(connect, url, options = {}) {
  const ws = connect(url, { connectTimeout: 5000, ...options });
  try {
    await ws.opened;
  } catch (e) {
    return e.status;
  }
  ws.close();
  return 101;
}
