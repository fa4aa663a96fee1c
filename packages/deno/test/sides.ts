/**
 * The two ends of each interoperability pair, in Deno: our server and client (this package), Deno's built-in
 * WebSocket client, and Deno.serve with Deno.upgradeWebSocket. Plus a test certificate authority made with
 * openssl at run time.
 */
import { serve, connect, type ConnectOptions, type ServeOptions } from '../src/index.js';
import {
  adapterClient, adapterServer, CMD, deferred, Inbox, parseCommand,
  type AdapterConnect, type AdapterServe, type ClientSide, type CloseSeen, type Msg, type ServerSide,
} from '../../devtools/testkit/pair-suite.js';

export const inDeno = typeof (globalThis as { Deno?: { listen?: unknown } }).Deno?.listen === 'function';

const noop = (): void => {};

export interface TestCerts {
  ca: string;
  cert: string;
  key: string;
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: 'null', stderr: 'piped' }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(' ')} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * A throwaway CA and a leaf certificate for localhost / 127.0.0.1 / ::1 signed by it (rustls, which Deno uses,
 * refuses a self-signed CA certificate used directly as the server's: CaUsedAsEndEntity).
 */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: 'ss-deno-cert-' });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await run('openssl', ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=streamsocket test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
    await run('openssl', ['req', ...ec, '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', '/CN=localhost'], dir);
    await Deno.writeTextFile(`${dir}/ext.cnf`, 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    await run('openssl', ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '1', '-extfile', 'ext.cnf'], dir);
    const read = (f: string): Promise<string> => Deno.readTextFile(`${dir}/${f}`);
    return { ca: await read('ca.pem'), cert: await read('cert.pem'), key: await read('key.pem') };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ------------------------------------------------------------------------------------------------ servers

/** Our server, echoing (the testkit's adapterServer over this package's serve()). */
export function ourServer(extra: Partial<ServeOptions> = {}): Promise<ServerSide> {
  return adapterServer(serve as unknown as AdapterServe, extra);
}

/** Deno.serve with Deno.upgradeWebSocket, echoing. (No ping API: canPing false.) */
export async function denoServer(tls?: TestCerts): Promise<ServerSide> {
  let last = deferred<CloseSeen>();
  const listening = deferred<number>();
  const ac = new AbortController();
  const server = Deno.serve(
    {
      hostname: '127.0.0.1',
      port: 0,
      signal: ac.signal,
      onListen: ({ port }) => listening.resolve(port),
      ...(tls ? { cert: tls.cert, key: tls.key } : {}),
    },
    (req) => {
      const offered = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
      const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0, ...(offered.includes('chat') ? { protocol: 'chat' } : {}) });
      const seen = deferred<CloseSeen>();
      last = seen;
      socket.binaryType = 'arraybuffer';
      socket.onmessage = (e) => {
        const m: Msg = typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer);
        const cmd = parseCommand(m);
        if (!cmd) socket.send(m);
        else if (cmd.kind === 'close') socket.close(cmd.code, cmd.reason);
      };
      socket.onclose = (e) => seen.resolve({ code: e.code, reason: e.reason });
      socket.onerror = noop;
      return response;
    },
  );
  const port = await listening.promise;
  return {
    url: `${tls ? 'wss://localhost' : 'ws://127.0.0.1'}:${port}`,
    lastClose: () => last.promise,
    canPing: false,
    stop: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

// ------------------------------------------------------------------------------------------------ clients

/** Our client (the testkit's adapterClient over this package's connect()). */
export function ourClient(url: string, protocols: string[], extra: Partial<ConnectOptions> = {}): Promise<ClientSide> {
  return adapterClient(connect as unknown as AdapterConnect, url, protocols, extra);
}

/** Deno's built-in WebSocket client. */
export function denoClient(url: string, protocols: string[]): Promise<ClientSide> {
  return new Promise<ClientSide>((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
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
