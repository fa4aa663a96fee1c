// runConnect's logic against an in-memory session: what is sent, when it closes, what it prints, which status.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runConnect, parseCommandLine, EXIT_INTERRUPTED, type OpenSession, type CloseInfo, type ConnectOptions } from '../src/index.js';

interface Fake {
  session: OpenSession;
  sent: Array<string | Uint8Array>;
  closes: Array<{ closeCode?: number; reason?: string }>;
  /** Delivers a message from the "server". */
  receive(m: string | Uint8Array): void;
  /** The "server" closes: the readable ends, `closed` settles. */
  serverClose(info: CloseInfo): void;
  breakDown(e: unknown): void;
}

function fakeSession({ answer = (m: string | Uint8Array): string | Uint8Array | null => m } = {}): Fake {
  let ctrl!: ReadableStreamDefaultController<string | Uint8Array>;
  let resolveClosed!: (i: CloseInfo) => void;
  let rejectClosed!: (e: unknown) => void;
  const closed = new Promise<CloseInfo>((res, rej) => { resolveClosed = res; rejectClosed = rej; });
  closed.catch(() => {});
  let done = false;
  const fake: Fake = {
    sent: [],
    closes: [],
    receive: (m) => { if (!done) ctrl.enqueue(m); },
    serverClose: (info) => { if (done) return; done = true; ctrl.close(); resolveClosed(info); },
    breakDown: (e) => { if (done) return; done = true; ctrl.error(e); rejectClosed(e); },
    session: {
      protocol: '',
      extensions: '',
      readable: new ReadableStream({ start(c) { ctrl = c; } }),
      writable: new WritableStream({
        write(m) {
          fake.sent.push(m);
          const a = answer(m);
          if (a !== null) setTimeout(() => fake.receive(a), 5);
        },
      }),
      closed,
      close(info = {}) {
        fake.closes.push(info);
        // The peer answers the close frame with the same code (RFC 6455 5.5.1).
        setTimeout(() => fake.serverClose({ closeCode: info.closeCode ?? 1005, reason: info.reason ?? '' }), 5);
      },
    },
  };
  return fake;
}

function options(extra: string[] = []): ConnectOptions {
  const c = parseCommandLine(['connect', 'ws://127.0.0.1:9/', '--linger', '30ms', ...extra]);
  if (c.command !== 'connect') throw new Error('parse');
  return c.options;
}

function io(input: string | Uint8Array | null) {
  const out: Uint8Array[] = [];
  const errors: string[] = [];
  const stdin = new ReadableStream<Uint8Array>({
    start(c) {
      if (input === null) return; // stays open, like a terminal
      c.enqueue(typeof input === 'string' ? new TextEncoder().encode(input) : input);
      c.close();
    },
  });
  const stdout = new WritableStream<Uint8Array>({ write(b) { out.push(b); } });
  return {
    io: { stdin, stdout, error: (l: string) => errors.push(l) },
    text: () => out.map((b) => new TextDecoder().decode(b)).join(''),
    bytes: () => { const all = new Uint8Array(out.reduce((n, b) => n + b.byteLength, 0)); let o = 0; for (const b of out) { all.set(b, o); o += b.byteLength; } return all; },
    errors,
  };
}

test('lines out, answers in, close 1000 after the answers (linger), exit 0', async () => {
  const f = fakeSession();
  const t = io('one\r\ntwo\nthree');
  const code = await runConnect(options(), t.io, async () => f.session);
  assert.is(code, 0, t.errors.join());
  assert.equal(f.sent, ['one', 'two', 'three']);
  assert.is(t.text(), 'one\ntwo\nthree\n', 'every answer arrived before the close');
  assert.equal(f.closes, [{ closeCode: 1000 }]);
});

test('--binary: chunks out as binary, payloads in raw', async () => {
  const f = fakeSession();
  const t = io(new Uint8Array([1, 2, 10, 3]));
  assert.is(await runConnect(options(['--binary']), t.io, async () => f.session), 0);
  assert.equal(f.sent.map((m) => [...(m as Uint8Array)]), [[1, 2, 10, 3]]);
  assert.equal([...t.bytes()], [1, 2, 10, 3]);
});

test('a binary message in line mode is written raw with a newline', async () => {
  const f = fakeSession({ answer: () => new Uint8Array([0x68, 0x69]) });
  const t = io('x\n');
  assert.is(await runConnect(options(), t.io, async () => f.session), 0);
  assert.is(t.text(), 'hi\n');
});

test('the server closing with another code: exit 1 and one line naming it', async () => {
  const f = fakeSession({ answer: () => null });
  const t = io(null);
  const run = runConnect(options(), t.io, async () => f.session);
  setTimeout(() => f.serverClose({ closeCode: 4001, reason: 'kicked' }), 20);
  assert.is(await run, 1);
  assert.equal(t.errors, ['connection closed with code 4001 (application-defined): kicked']);
  assert.equal(f.closes, []);
});

test('the server closing with 1005 (no code) is not a clean close: exit 1 with the reason', async () => {
  const f = fakeSession({ answer: () => null });
  const t = io(null);
  const run = runConnect(options(), t.io, async () => f.session);
  setTimeout(() => f.serverClose({ closeCode: 1005, reason: '' }), 20);
  assert.is(await run, 1);
  assert.equal(t.errors, ['connection closed with code 1005 (no status received)']);
});

test('a broken connection: exit 1 with the cause', async () => {
  const f = fakeSession();
  const t = io(null);
  const run = runConnect(options(), t.io, async () => f.session);
  setTimeout(() => f.breakDown(Object.assign(new Error('gone'), { closeCode: 1006 })), 20);
  assert.is(await run, 1);
  assert.equal(t.errors, ['connection closed with code 1006 (abnormal closure): gone']);
});

test('dial failures: refused handshake, timeout, and --timeout 0 means no limit', async () => {
  const refused = io('');
  const e = Object.assign(new Error('server did not switch protocols'), { name: 'HandshakeError', status: 404 });
  assert.is(await runConnect(options(), refused.io, async () => { throw e; }), 1);
  assert.equal(refused.errors, ['handshake refused by 127.0.0.1:9: HTTP 404 Not Found (server did not switch protocols)']);

  const slow = io('');
  // AbortSignal.timeout's timer does not keep Node alive (a real dial's socket does): hold the loop open.
  const keepAlive = setInterval(() => {}, 1000);
  const never = (_o: ConnectOptions, signal: AbortSignal) => new Promise<OpenSession>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  assert.is(await runConnect(options(['--timeout', '40ms']), slow.io, never), 1);
  clearInterval(keepAlive);
  assert.equal(slow.errors, ['timed out after 40 ms connecting to ws://127.0.0.1:9/']);

  let aborted: boolean | null = null;
  const f = fakeSession();
  const unlimited = io('x\n');
  assert.is(await runConnect(options(['--timeout', '0']), unlimited.io, async (_o, signal) => {
    await new Promise((r) => setTimeout(r, 30));
    aborted = signal.aborted;
    return f.session;
  }), 0);
  assert.is(aborted, false);
});

test('interrupt: close 1000 "interrupted", exit 130', async () => {
  const f = fakeSession();
  const t = io(null);
  const interrupt = new AbortController();
  const run = runConnect(options(), { ...t.io, interrupt: interrupt.signal }, async () => f.session);
  setTimeout(() => interrupt.abort(), 20);
  assert.is(await run, EXIT_INTERRUPTED);
  assert.equal(f.closes, [{ closeCode: 1000, reason: 'interrupted' }]);
  assert.equal(t.errors, []);
});

test('a line over the limit fails locally: close 1001, exit 1 with the reason', async () => {
  const f = fakeSession();
  // 16 MiB + 1 characters without a newline would be slow to build here; the limit is the splitter's own test.
  // What matters: a failing input pipe is reported, and the session is closed by us.
  const stdin = new ReadableStream<Uint8Array>({ start(c) { c.error(new Error('EIO: stdin failed')); } });
  const errors: string[] = [];
  const code = await runConnect(options(), { stdin, stdout: new WritableStream(), error: (l) => errors.push(l) }, async () => f.session);
  assert.is(code, 1);
  assert.equal(errors, ['EIO: stdin failed']);
  assert.equal(f.closes, [{ closeCode: 1001, reason: 'client failed' }]);
});

test.run();
