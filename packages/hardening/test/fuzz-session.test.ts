/**
 * Fuzzing the session's server handshake end to end (issue 9): mutated request heads (and the bytes after them)
 * written in random chunkings into `accept()` over an in-memory pipe. The session must agree with the pure
 * oracle (HeadReader + validateRequest): a 101 exactly when the oracle accepts, otherwise the oracle's status on
 * the wire and a HandshakeError with that status from `opened`; an unterminated head that hits EOF fails
 * without a 101 (answered 400 or not at all). Never an unhandled rejection, an untyped error or a hang. Budget: 0.5/6 of STREAMSOCKET_FUZZ_SECONDS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accept, createPipePair } from '@streamsocket/session';
import { HandshakeError, parseResponseHead } from '@streamsocket/handshake';
import { loadZlib } from '@streamsocket/codec';
import { Rng, seedFromEnv, fuzzBudgetMs, runBudget, mutateHead, chunkings, concatBytes, toHex } from '../src/index.js';
import { checkHead, VALID_REQUESTS, randomHead, LIMITS, OracleError } from './_head-check.js';
import { saveFailure } from './_corpus.js';
import { escaped, within } from './_net.js';

const seed = seedFromEnv('fuzz-session');

test.before(async () => {
  await loadZlib();
});

async function session(chunks: Uint8Array[]): Promise<{ status: number; opened: string }> {
  const [client, server] = createPipePair();
  const ws = accept(server, {
    ...LIMITS, handshakeTimeout: 3000, closeTimeout: 500, protocols: ['mqtt', 'chat.v2'], deflate: true,
    origins: (o) => o !== 'https://evil.example',
  });
  const w = client.writable.getWriter();
  const writing = (async () => {
    for (const c of chunks) await w.write(c);
    await w.close();
  })();
  writing.catch(() => {});
  // The response head (or nothing) from the server side.
  const r = client.readable.getReader();
  let got: Uint8Array = new Uint8Array(0);
  const reading = (async () => {
    for (;;) {
      const x = await r.read();
      if (x.done) return;
      got = concatBytes([got, x.value]);
      const s = new TextDecoder('latin1').decode(got);
      if (s.includes('\r\n\r\n')) return;
    }
  })().catch(() => {});
  const opened = await within(ws.opened.then(() => 'open', (e: unknown) => {
    if (!(e instanceof HandshakeError)) throw new OracleError(`opened rejected with an untyped error: ${String(e)}`);
    return `${e.status} ${e.code}`;
  }), 5000, 'session opened');
  await within(reading, 5000, 'response');
  const text = new TextDecoder('latin1').decode(got);
  const end = text.indexOf('\r\n\r\n');
  let status = 0;
  if (end >= 0) status = parseResponseHead(got.subarray(0, end + 4)).status; // a malformed answer would throw here
  if (opened === 'open') ws.close();
  await ws.closed.catch(() => {});
  r.releaseLock();
  client.reset();
  return { status, opened };
}

test('fuzz the session handshake: the wire answer matches the oracle in every chunking', async () => {
  const rng = new Rng(seed ^ 0x5e55);
  const counts = new Map<string, number>();
  let input: Uint8Array = new Uint8Array(0);
  let stats;
  try {
    stats = await runBudget(fuzzBudgetMs(0.5), async () => {
      const it = rng.fork();
      const head = it.bool(0.15) ? randomHead(it, 'request') : mutateHead(it.pick(VALID_REQUESTS), it, 3);
      input = it.bool(0.3) ? concatBytes([head, it.bytes(it.int(40))]) : head;
      const want = checkHead('request', input, it);
      const expect = 'ok' in want ? 101 : 'incomplete' in want ? 0 : (want.status as number);
      for (const c of chunkings(input, it, 0).slice(0, 3)) {
        const got = await session(c.chunks);
        // An unterminated head that meets EOF may be answered 400 (the peer half-closed) or not at all.
        const statusOk = expect === 0 ? got.status === 0 || got.status === 400 : got.status === expect;
        if (!statusOk) throw new OracleError(`[${c.name}] wire status ${got.status}, oracle ${JSON.stringify(want).slice(0, 200)}`);
        const openedOk = expect === 101 ? got.opened === 'open' : got.opened !== 'open' && (got.status === 0 || got.opened.startsWith(`${got.status} `));
        if (!openedOk) throw new OracleError(`[${c.name}] opened ${got.opened}, wire ${got.status}`);
      }
      const k = expect === 101 ? '101' : expect === 0 ? 'unterminated + EOF' : String(expect);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    });
  } catch (e) {
    if (e instanceof OracleError) {
      const file = saveFailure({ target: 'head-request', hex: toHex(input), note: `session: ${e.message}`, seed }, `session-${seed}`);
      assert.unreachable(`${e.message}\n  seed ${seed}; input saved to ${file}`);
    }
    throw e;
  }
  console.log(`[fuzz-session] ${stats.iterations} heads x 3 chunkings through accept() in ${(stats.elapsedMs / 1000).toFixed(1)} s, slowest ${stats.maxIterationMs.toFixed(0)} ms; answers: ${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  assert.ok(stats.iterations > 50);
  assert.ok((counts.get('101') ?? 0) > 0);
});

test('nothing escaped', () => {
  assert.equal(escaped.map(String), []);
});

test.run();
