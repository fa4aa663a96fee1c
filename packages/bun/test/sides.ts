/**
 * The two ends of each interoperability pair, in Bun: our server and client (this package), Bun's built-in
 * WebSocket client, and Bun.serve with its `websocket` handlers. Plus a test certificate authority made with
 * openssl (Bun.spawn) at run time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, connect, type ConnectOptions, type ServeOptions } from '../src/index.js';
import {
  adapterClient, adapterServer, CMD, deferred, Inbox, parseCommand, SIDE_MAX_MESSAGE as MAX,
  type AdapterConnect, type AdapterServe, type ClientSide, type CloseSeen, type Msg, type ServerSide,
} from '../../devtools/testkit/pair-suite.js';

export const inBun = typeof (globalThis as { Bun?: { listen?: unknown } }).Bun?.listen === 'function';

const noop = (): void => {};

export interface TestCerts {
  ca: string;
  cert: string;
  key: string;
}

async function run(args: string[], cwd: string): Promise<void> {
  const p = Bun.spawn(['openssl', ...args], { cwd, stdout: 'ignore', stderr: 'pipe' });
  const code = await p.exited;
  if (code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${await new Response(p.stderr).text()}`);
}

/** A throwaway CA and a leaf certificate for localhost / 127.0.0.1 / ::1 signed by it. */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'ss-bun-cert-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=streamsocket test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
    await run(['req', ...ec, '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', '/CN=localhost'], dir);
    await Bun.write(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    await run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '1', '-extfile', 'ext.cnf'], dir);
    const read = (f: string): Promise<string> => Bun.file(join(dir, f)).text();
    return { ca: await read('ca.pem'), cert: await read('cert.pem'), key: await read('key.pem') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------ servers

/** Our server, echoing (the testkit's adapterServer over this package's serve()). */
export function ourServer(extra: Partial<ServeOptions> = {}): Promise<ServerSide> {
  return adapterServer(serve as unknown as AdapterServe, extra);
}

/** Bun.serve with its websocket handlers, echoing; pings with ws.ping() and reports the pong handler. */
export async function bunServer(opts: { deflate: boolean; tls?: TestCerts }): Promise<ServerSide> {
  let last = deferred<CloseSeen>();
  const pongWaiters = new Map<unknown, () => void>();
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    ...(opts.tls ? { tls: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
    fetch(req, srv) {
      const offered = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
      const headers: Record<string, string> = offered.includes('chat') ? { 'Sec-WebSocket-Protocol': 'chat' } : {};
      if (srv.upgrade(req, { headers })) return undefined;
      return new Response('upgrade required', { status: 426 });
    },
    websocket: {
      perMessageDeflate: opts.deflate,
      maxPayloadLength: MAX,
      idleTimeout: 0,
      open(ws) {
        ws.binaryType = 'uint8array';
        last = deferred<CloseSeen>();
      },
      message(ws, m) {
        const msg: Msg = typeof m === 'string' ? m : new Uint8Array(m);
        const cmd = parseCommand(msg);
        if (!cmd) ws.send(msg);
        else if (cmd.kind === 'close') ws.close(cmd.code, cmd.reason);
        else {
          pongWaiters.set(ws, () => ws.send(`${CMD}pong`));
          ws.ping(new Uint8Array([1, 2, 3]));
        }
      },
      pong(ws) {
        const w = pongWaiters.get(ws);
        pongWaiters.delete(ws);
        w?.();
      },
      close(_ws, code, reason) {
        last.resolve({ code, reason });
      },
    },
  });
  return {
    url: `${opts.tls ? 'wss://localhost' : 'ws://127.0.0.1'}:${server.port}`,
    lastClose: () => last.promise,
    canPing: true,
    stop: async () => {
      await server.stop(true);
    },
  };
}

// ------------------------------------------------------------------------------------------------ clients

/** Our client (the testkit's adapterClient over this package's connect()). */
export function ourClient(url: string, protocols: string[], extra: Partial<ConnectOptions> = {}): Promise<ClientSide> {
  return adapterClient(connect as unknown as AdapterConnect, url, protocols, extra);
}

/** Bun's built-in WebSocket client (it offers permessage-deflate by itself). */
export function bunClient(url: string, protocols: string[], tls?: { ca: string }): Promise<ClientSide> {
  return new Promise<ClientSide>((resolve, reject) => {
    // Bun's constructor takes an options object as its second argument (protocols, tls) besides the standard form.
    const Ctor = WebSocket as unknown as new (url: string, o: unknown) => WebSocket;
    const ws = tls ? new Ctor(url, { protocols, tls: { ca: tls.ca } }) : new WebSocket(url, protocols);
    ws.binaryType = 'arraybuffer';
    const inbox = new Inbox();
    const closed = deferred<CloseSeen>();
    ws.onmessage = (e) => inbox.push(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
    ws.onclose = (e) => {
      inbox.end(new Error(`closed ${e.code}`));
      closed.resolve({ code: e.code, reason: e.reason });
      reject(new Error(`closed before open: ${e.code}`));
    };
    ws.onerror = noop;
    ws.onopen = () =>
      resolve({
        protocol: ws.protocol,
        extensions: ws.extensions,
        send: (m) => ws.send(m),
        next: () => inbox.next(),
        close: (code, reason) => ws.close(code, reason),
        closed: closed.promise,
      });
  });
}
