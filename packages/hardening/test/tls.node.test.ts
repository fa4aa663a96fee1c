/**
 * TLS faults (issue 9): an untrusted certificate and a TLS handshake that stalls (either side) fail with clear
 * errors within their timeouts and leak nothing (fds, sockets, timers back to baseline).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, connect, TlsConnectError, type WebSocketStream } from '@streamsocket/node';
import { RawPeer, within, cleanup, tracked, escaped, baseline, backTo } from './_net.js';

/** A throwaway self-signed certificate for 127.0.0.1 (openssl CLI). */
function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ss-hardening-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')],
    { stdio: 'ignore', timeout: 10_000 });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const settle = (p: Promise<unknown>): Promise<{ ok: boolean; v: unknown }> => p.then((v) => ({ ok: true, v }), (v: unknown) => ({ ok: false, v }));
const lines: string[] = [];

test('untrusted certificate: TlsConnectError naming the cause and the fix; trusted with `ca` works; no leaks', async () => {
  const tlsOpts = selfSigned();
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0, tls: tlsOpts }, async (ws: WebSocketStream) => {
    const { readable, writable } = await ws.opened;
    await readable.pipeTo(writable).catch(() => {});
  }));
  await server.ready;
  const url = `wss://127.0.0.1:${server.port}/`;
  const base = baseline();
  const t0 = Date.now();
  const ws = connect(url);
  const o = await within(settle(ws.opened), 5000, 'opened');
  const ms = Date.now() - t0;
  assert.is(o.ok, false);
  assert.instance(o.v, TlsConnectError);
  const e = o.v as TlsConnectError;
  lines.push(`untrusted certificate: rejected in ${ms} ms: ${e.message}`);
  assert.match(e.message, /certificate/i);
  assert.match(e.message, /ca/);
  const c = await within(settle(ws.closed), 3000, 'closed');
  assert.is((c.v as { closeCode?: number }).closeCode, 1006);
  const now = await backTo(base);
  lines.push(`untrusted certificate: fds ${base.fds}->${now.fds}, timers ${base.timers}->${now.timers}, sockets ${base.sockets}->${now.sockets}`);
  assert.ok(now.fds <= base.fds && now.timers <= base.timers && now.sockets <= base.sockets, 'no leak');
  // With the CA the same server is fine (the failure above was the trust, not the server).
  const good = connect(url, { ca: tlsOpts.cert });
  await within(good.opened, 5000, 'trusted opened');
  good.close();
  await within(good.closed, 3000, 'trusted closed');
});

test('client: a TLS handshake that stalls fails at connectTimeout with a clear error; no leaks', async () => {
  // Accepts TCP, reads and discards (so it sees our FIN), never says a word.
  const socks = new Set<net.Socket>();
  const mute = net.createServer((s) => {
    socks.add(s);
    s.resume();
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
  });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  tracked({ close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); mute.close(() => r()); }) });
  const port = (mute.address() as net.AddressInfo).port;
  const base = baseline();
  const TIMEOUT = 800;
  const t0 = Date.now();
  const ws = connect(`wss://127.0.0.1:${port}/`, { connectTimeout: TIMEOUT });
  const o = await within(settle(ws.opened), 5000, 'opened');
  const ms = Date.now() - t0;
  assert.is(o.ok, false);
  const msg = String((o.v as Error).message);
  lines.push(`stalled TLS handshake (client): failed after ${ms} ms (connectTimeout ${TIMEOUT}): ${(o.v as Error).name}: ${msg}`);
  assert.ok(ms >= TIMEOUT - 50 && ms < TIMEOUT + 1000, `${ms} ms`);
  assert.match(msg, /time/i);
  await within(settle(ws.closed), 3000, 'closed');
  const now = await backTo(base);
  lines.push(`stalled TLS handshake (client): the mute server holds ${socks.size} connection(s) from us afterwards`);
  lines.push(`stalled TLS handshake (client): fds ${base.fds}->${now.fds}, timers ${base.timers}->${now.timers}, sockets ${base.sockets}->${now.sockets}`);
  assert.ok(now.fds <= base.fds && now.timers <= base.timers && now.sockets <= base.sockets, 'no leak');
  assert.is(socks.size, 0, 'our socket was closed (the mute server saw the FIN)');
});

test('server: a client that stalls the TLS handshake (or speaks plain HTTP) is dropped at handshakeTimeout; no leaks', async () => {
  const TIMEOUT = 800;
  const server = tracked(serve({ hostname: '127.0.0.1', port: 0, tls: selfSigned(), handshakeTimeout: TIMEOUT }, () => {}));
  await server.ready;
  const base = baseline();
  const silent = new RawPeer(server.port);
  await silent.ready();
  const t0 = Date.now();
  const plain = new RawPeer(server.port);
  await plain.ready();
  plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await plain.waitClosed(3000);
  const plainMs = Date.now() - t0;
  await silent.waitClosed(TIMEOUT + 2000);
  const silentMs = silent.closedAt - t0;
  lines.push(`stalled TLS handshake (server): silent client dropped after ${silentMs} ms (handshakeTimeout ${TIMEOUT}); plain-HTTP client dropped after ${plainMs} ms`);
  assert.ok(silentMs >= TIMEOUT - 100 && silentMs < TIMEOUT + 1500, `${silentMs} ms`);
  const now = await backTo(base);
  assert.ok(now.fds <= base.fds && now.timers <= base.timers && now.sockets <= base.sockets, `no leak: ${JSON.stringify([base, now])}`);
});

test.after.each(cleanup);

test('report', () => {
  for (const l of lines) console.log(`[tls] ${l}`);
  assert.equal(escaped.map(String), []);
});

test.run();
