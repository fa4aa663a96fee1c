// runServe's per-connection logic with in-memory sessions (the spawned end-to-end runs are in cli.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runServe, parseCommandLine, SLOW_CLIENT_BACKLOG, type OpenSession, type CloseInfo, type ServeOptions, type Listen, type PeerInfo } from '../src/index.js';

interface Peer {
  session: OpenSession;
  got: Array<string | Uint8Array>;
  closes: Array<{ closeCode?: number; reason?: string }>;
  send(m: string | Uint8Array): void;
  end(info?: CloseInfo): void;
}

/** A session whose writable never drains when `stalled` (its queue only grows), like a reader that stopped. */
function peer({ stalled = false } = {}): Peer {
  let ctrl!: ReadableStreamDefaultController<string | Uint8Array>;
  let resolveClosed!: (i: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((r) => { resolveClosed = r; });
  let done = false;
  const p: Peer = {
    got: [],
    closes: [],
    send: (m) => ctrl.enqueue(m),
    end: (info = { closeCode: 1000, reason: '' }) => { if (done) return; done = true; ctrl.close(); resolveClosed(info); },
    session: {
      protocol: '',
      extensions: '',
      readable: new ReadableStream({ start(c) { ctrl = c; } }),
      writable: new WritableStream<string | Uint8Array>({
        write(m) {
          p.got.push(m);
          return stalled ? new Promise<void>(() => {}) : undefined;
        },
      }, { highWaterMark: 64 * 1024, size: (m) => (typeof m === 'string' ? m.length : m.byteLength) }),
      closed,
      close(info = {}) {
        p.closes.push(info);
        p.end({ closeCode: info.closeCode ?? 1005, reason: info.reason ?? '' });
      },
    },
  };
  return p;
}

function serveOptions(args: string[]): ServeOptions {
  const c = parseCommandLine(['serve', '--port', '0', ...args]);
  if (c.command !== 'serve') throw new Error('parse');
  return c.options;
}

/** Runs runServe with a fake listener; returns a function that connects a peer, and the log. */
async function start(args: string[]) {
  let onSession!: (s: OpenSession, p: PeerInfo) => void;
  let closedServer = false;
  const listen: Listen = async (_o, cb) => {
    onSession = cb;
    return { url: 'ws://127.0.0.1:1/', close: async () => { closedServer = true; } };
  };
  const log: string[] = [];
  const stop = new AbortController();
  const done = runServe(serveOptions(args), { log: (l) => log.push(l), stop: stop.signal }, listen);
  await new Promise((r) => setTimeout(r, 0));
  return {
    connect(p: Peer) { onSession(p.session, { remote: '127.0.0.1:5', path: '/', protocol: '', extensions: '' }); },
    log,
    async stop() { stop.abort(); const code = await done; return { code, closedServer }; },
  };
}

const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

test('echo: each message back to its sender; events logged; stop closes the server', async () => {
  const s = await start(['--echo']);
  const a = peer();
  s.connect(a);
  a.send('hi');
  a.send(new Uint8Array([1]));
  await tick();
  assert.equal(a.got, ['hi', new Uint8Array([1])]);
  a.end();
  await tick();
  assert.equal(s.log, ['listening on ws://127.0.0.1:1/', '[#1] open 127.0.0.1:5 / (1 connected)', '[#1] closed 1000 (normal closure)']);
  assert.equal(await s.stop(), { code: 0, closedServer: true });
});

test('broadcast: to every other client; a stalled one is dropped with 1013 past the backlog bound', async () => {
  const s = await start(['--broadcast', '--quiet']);
  const [a, b, slow] = [peer(), peer(), peer({ stalled: true })];
  s.connect(a); s.connect(b); s.connect(slow);
  a.send('from a');
  await tick();
  assert.equal(b.got, ['from a']);
  assert.equal(slow.got, ['from a']);
  assert.equal(a.got, [], 'not back to the sender');
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < Math.ceil(SLOW_CLIENT_BACKLOG / chunk.byteLength) + 2; i++) b.send(chunk);
  await tick(30);
  assert.equal(slow.closes, [{ closeCode: 1013, reason: 'too slow' }]);
  assert.is(a.got.length, Math.ceil(SLOW_CLIENT_BACKLOG / chunk.byteLength) + 2, 'the others got everything');
  assert.equal(s.log, ['listening on ws://127.0.0.1:1/'], '--quiet: only the listening line');
  await s.stop();
});

test('exec: lines to the process, its lines back; its exit status decides the close code', async () => {
  const s = await start(['--exec', 'read -r line; echo "got $line"; exit 4']);
  const a = peer();
  s.connect(a);
  a.send('hello');
  for (let i = 0; i < 200 && a.closes.length === 0; i++) await tick();
  assert.equal(a.got, ['got hello']);
  assert.equal(a.closes, [{ closeCode: 1011, reason: 'process exited with status 4' }]);
  assert.ok(s.log.some((l) => /\[#1\] process exited with status 4/.test(l)));
  await s.stop();
});

test('a listener that cannot listen: exit 1 with the reason', async () => {
  const listen: Listen = async () => { throw Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }); };
  const log: string[] = [];
  const code = await runServe(serveOptions(['--echo']), { log: (l) => log.push(l), stop: new AbortController().signal }, listen);
  assert.is(code, 1);
  assert.equal(log, ['streamsocket: cannot listen on 127.0.0.1:0: listen EADDRINUSE']);
});

test.run();
