// Interoperability with the `ws` library over real loopback sockets (Node only): a ws client against a
// server built from HeadReader + validateRequest + buildAcceptResponse, and our client request/response
// validation against a ws server.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import {
  HeadReader,
  HandshakeError,
  validateRequest,
  buildAcceptResponse,
  errorResponse,
  buildClientRequest,
  validateResponse,
  type ServerPolicy,
  type ExtensionNegotiator,
  type ExtensionParams,
} from '../src/index.js';

// Loaded at run time, not bundled: ws is CommonJS and requires Node builtins, which an ESM bundle cannot.
const wsModule = createRequire(import.meta.url)('ws') as typeof import('ws');
const WebSocket = wsModule.WebSocket;
const WebSocketServer = wsModule.WebSocketServer;

const TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = globalThis.setTimeout(() => reject(new Error(`timeout: ${what}`)), TIMEOUT_MS);
    p.then((v) => (globalThis.clearTimeout(t), resolve(v)), (e) => (globalThis.clearTimeout(t), reject(e)));
  });
}

/** A minimal server: our handshake, then it sends one text frame "hi" and closes the socket. */
function ourServer(policy: ServerPolicy): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const reader = new HeadReader('request');
    const onData = (chunk: Buffer) => {
      let r;
      try {
        r = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (e) {
        sock.end(errorResponse(e as HandshakeError));
        return;
      }
      if (!r) return;
      sock.off('data', onData);
      const v = validateRequest(r.head, policy);
      if (!v.ok) {
        sock.end(errorResponse(v.error));
        return;
      }
      sock.write(buildAcceptResponse(v.handshake));
      sock.write(new Uint8Array([0x81, 0x02, 0x68, 0x69]));
    };
    sock.on('data', onData);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, sockets })));
}

function closeServer(s: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const sock of s.sockets) sock.destroy();
  return new Promise((resolve) => s.server.close(() => resolve()));
}

test('ws client -> our server: accepted, protocol selected, first frame delivered', async () => {
  const s = await ourServer({ protocols: ['b', 'a'], path: '/p', origins: ['http://ok.example'] });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/p?x=1`, ['a', 'b'], { origin: 'http://ok.example', perMessageDeflate: false });
    const msg = await withTimeout(
      new Promise<string>((resolve, reject) => {
        ws.on('message', (d) => resolve(String(d)));
        ws.on('error', reject);
      }),
      'message',
    );
    assert.is(ws.protocol, 'b');
    assert.is(msg, 'hi');
    ws.terminate();
  } finally {
    await closeServer(s);
  }
});

test('ws client -> our server: policy rejections arrive as HTTP statuses', async () => {
  const s = await ourServer({ path: '/p', origins: ['http://ok.example'] });
  try {
    const status = (url: string, origin: string) =>
      withTimeout(
        new Promise<number>((resolve, reject) => {
          const ws = new WebSocket(url, { origin, perMessageDeflate: false });
          ws.on('unexpected-response', (_req, res) => {
            resolve(res.statusCode ?? -1);
            res.resume();
            ws.terminate();
          });
          ws.on('open', () => reject(new Error('unexpectedly opened')));
          ws.on('error', () => {});
        }),
        'status',
      );
    assert.is(await status(`ws://127.0.0.1:${s.port}/other`, 'http://ok.example'), 404);
    assert.is(await status(`ws://127.0.0.1:${s.port}/p`, 'http://evil.example'), 403);
  } finally {
    await closeServer(s);
  }
});

/** Reads the 101 (or error) head from a raw socket with our HeadReader. */
function rawHandshake(port: number, bytes: Uint8Array) {
  return withTimeout(
    new Promise<{ head: import('../src/index.js').ResponseHead; rest: Uint8Array; sock: Socket }>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => sock.write(bytes));
      const reader = new HeadReader('response');
      sock.on('error', reject);
      sock.on('data', (chunk) => {
        try {
          const r = reader.push(new Uint8Array(chunk));
          if (r) {
            sock.removeAllListeners('data');
            resolve({ ...r, sock });
          }
        } catch (e) {
          reject(e);
        }
      });
    }),
    'raw handshake',
  );
}

test('our client -> ws server: 101 validated, protocol and extension negotiated', async () => {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: true,
    handleProtocols: (protocols) => (protocols.has('two') ? 'two' : false),
  });
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  const seen: ExtensionParams[] = [];
  const deflate: ExtensionNegotiator<ExtensionParams> = {
    name: 'permessage-deflate',
    offer: () => [{ client_max_window_bits: true }],
    negotiate: () => null,
    confirm: (p) => (seen.push(p), p),
  };
  let sock: Socket | undefined;
  try {
    const req = buildClientRequest(`ws://127.0.0.1:${port}/x`, { protocols: ['one', 'two'], extensions: [deflate] });
    const raw = await rawHandshake(port, req.bytes);
    sock = raw.sock;
    const r = validateResponse(req, raw.head);
    assert.is(r.protocol, 'two');
    assert.ok(r.extensions.startsWith('permessage-deflate'));
    assert.is(seen.length, 1);
    assert.ok(r.agreements.has('permessage-deflate'));
  } finally {
    sock?.destroy();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
});

test('our client -> ws server: an error status surfaces as UNEXPECTED_STATUS with that status', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  let sock: Socket | undefined;
  try {
    const req = buildClientRequest(`ws://127.0.0.1:${port}/`);
    // ws speaks versions 13 and 8; 7 is refused with 400.
    const text = new TextDecoder().decode(req.bytes).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 7');
    const r = await rawHandshake(port, new TextEncoder().encode(text));
    sock = r.sock;
    assert.is(r.head.status, 400);
    let caught: unknown;
    try {
      validateResponse(req, r.head);
    } catch (e) {
      caught = e;
    }
    assert.instance(caught, HandshakeError);
    assert.is((caught as HandshakeError).status, 400);
    assert.is((caught as HandshakeError).code, 'UNEXPECTED_STATUS');
  } finally {
    sock?.destroy();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
});

test.run();
