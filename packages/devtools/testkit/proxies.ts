/**
 * Real proxies for the client suites, started per test file on 127.0.0.1 and allowed to reach 127.0.0.1 (and
 * ::1) only: Debian's squid (HTTP CONNECT with basic authentication, plain and over TLS) and dante-server
 * (SOCKS5 with username/password). `packages/devtools/runtimes.mjs` installs both. Written with node:* modules,
 * which Node, Deno and Bun all provide, so one helper serves the three adapters' suites.
 *
 * Dante checks SOCKS5 usernames against the system's password database; the test account lives in a private
 * mount namespace (`unshare -m` bind-mounting a copy of /etc/passwd and /etc/shadow with one extra line over the
 * originals for danted alone), so the machine's own accounts are never touched. That needs root, as apt-get does.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROXY_USER = 'ssproxy';
export const PROXY_PASS = 's3cret:ü'; // a colon and a non-ASCII letter: both must survive the encodings

export interface TestCa {
  /** The CA certificate to trust (PEM). */
  ca: string;
  /** A leaf for localhost, 127.0.0.1 and ::1, signed by the CA. */
  cert: string;
  key: string;
  /** A leaf naming only `localhost` (no IP), signed by the CA: for the name checks. */
  nameOnlyCert: string;
  nameOnlyKey: string;
}

/** A throwaway CA and two leaves (rustls, Deno's TLS, refuses a self-signed certificate used as its own CA). */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'ss-proxy-ca-'));
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 10_000 });
  };
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=streamsocket proxy test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    const leaf = (name: string, san: string): void => {
      run(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost']);
      writeFileSync(join(dir, `${name}.cnf`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.cnf`]);
    };
    leaf('leaf', 'DNS:localhost,IP:127.0.0.1,IP:::1');
    leaf('named', 'DNS:localhost');
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.pem'), cert: read('leaf.pem'), key: read('leaf.key'), nameOnlyCert: read('named.pem'), nameOnlyKey: read('named.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A free port on 127.0.0.1 (the proxies take a fixed port in their configuration). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface RunningProxy {
  /** e.g. `http://127.0.0.1:41234` (no credentials). */
  url: string;
  port: number;
  /** Everything the proxy logged so far (squid's access log, dante's connection log). */
  log(): string;
  stop(): Promise<void>;
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

/**
 * The proxy runs under a small shell watchdog: it stops the proxy when asked (SIGTERM) and also when this test
 * process disappears without asking (killed by the runner's time bound, a crash), so no daemon outlives its suite.
 */
const WATCHDOG = [
  'parent=$1; shift',
  '"$@" & child=$!',
  'trap \'kill $child 2>/dev/null; wait $child; exit 0\' TERM INT',
  'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done',
  'kill $child 2>/dev/null; wait $child',
].join('\n');

function startProcess(cmd: string, args: string[]): Started {
  const child = spawn('sh', ['-c', WATCHDOG, 'watchdog', String(process.pid), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (e) => keep(Buffer.from(`spawn failed: ${e.message}\n`)));
  return { child, output: () => out };
}

async function waitListening(p: Started, port: number, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${what} exited at start:\n${p.output().slice(-2000)}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  p.child.kill('SIGKILL');
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within 15 s:\n${p.output().slice(-2000)}`);
}

function stopProcess(p: Started): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
    p.child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.child.kill('SIGTERM');
  });
}

export interface SquidOptions {
  /** Also listen for TLS (an HTTPS proxy) with this certificate and key. */
  tls?: { cert: string; key: string };
}

export interface RunningSquid extends RunningProxy {
  /** `https://127.0.0.1:port` when started with `tls`. */
  httpsUrl: string | null;
}

/**
 * squid: CONNECT only, basic authentication required (PROXY_USER / PROXY_PASS), to 127.0.0.1 and ::1 only
 * (anything else is 403), no cache, its access log readable through `log()`.
 */
export async function startSquid(o: SquidOptions = {}): Promise<RunningSquid> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-squid-'));
  // squid started as root drops to its own user: everything it reads or writes must be reachable by it.
  chmodSync(dir, 0o777);
  const openssl = (args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8', timeout: 10_000 }).trim();
  writeFileSync(join(dir, 'users'), `${PROXY_USER}:${openssl(['passwd', '-1', PROXY_PASS])}\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'access.log'), '');
  chmodSync(join(dir, 'access.log'), 0o666); // squid writes it as its own user (chmod: not subject to the umask)
  if (o.tls) {
    writeFileSync(join(dir, 'cert.pem'), o.tls.cert, { mode: 0o644 });
    writeFileSync(join(dir, 'key.pem'), o.tls.key, { mode: 0o644 });
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const tlsPort = o.tls ? await freePort() : 0;
    const conf = [
      `http_port 127.0.0.1:${port}`,
      ...(o.tls ? [`https_port 127.0.0.1:${tlsPort} tls-cert=${dir}/cert.pem tls-key=${dir}/key.pem`] : []),
      'pid_filename none',
      'cache_log /dev/null',
      `access_log stdio:${dir}/access.log`,
      'logfile_rotate 0',
      'cache deny all',
      'pinger_enable off',
      'shutdown_lifetime 0 seconds',
      `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/users`,
      'auth_param basic realm streamsocket-test',
      'auth_param basic utf8 on',
      'acl authed proxy_auth REQUIRED',
      'acl loopback dst 127.0.0.1/32 ::1/128',
      'acl CONNECT method CONNECT',
      'http_access deny !loopback',
      'http_access deny !CONNECT',
      'http_access allow authed',
      'http_access deny all',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'squid.conf'), conf, { mode: 0o644 });
    const p = startProcess('/usr/sbin/squid', ['-N', '-d', '1', '-f', join(dir, 'squid.conf')]);
    try {
      await waitListening(p, port, 'squid');
      if (tlsPort) await waitListening(p, tlsPort, 'squid (https_port)');
    } catch (e) {
      await stopProcess(p);
      // A port taken between freePort() and squid's bind: try others.
      if (attempt < 2 && /bind|in use/i.test(String(e))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      url: `http://127.0.0.1:${port}`,
      httpsUrl: tlsPort ? `https://127.0.0.1:${tlsPort}` : null,
      port,
      log: () => readFileSync(join(dir, 'access.log'), 'utf8'),
      stop: async () => {
        await stopProcess(p);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/**
 * dante-server: SOCKS5 CONNECT to 127.0.0.1 / ::1 only (anything else: reply 2, not allowed by ruleset), with
 * username/password required (PROXY_USER / PROXY_PASS, in a private mount namespace, see above).
 */
export async function startDante(): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-dante-'));
  chmodSync(dir, 0o755);
  const hash = execFileSync('openssl', ['passwd', '-6', PROXY_PASS], { encoding: 'utf8', timeout: 10_000 }).trim();
  writeFileSync(join(dir, 'passwd'), `${readFileSync('/etc/passwd', 'utf8').trimEnd()}\n${PROXY_USER}:x:64999:64999::/nonexistent:/usr/sbin/nologin\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'shadow'), `${readFileSync('/etc/shadow', 'utf8').trimEnd()}\n${PROXY_USER}:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = [
      'logoutput: stderr',
      `internal: 127.0.0.1 port = ${port}`,
      'external: lo',
      'socksmethod: username',
      'clientmethod: none',
      'user.privileged: root',
      'user.unprivileged: nobody',
      'client pass {', '  from: 127.0.0.1/32 to: 0.0.0.0/0', '}',
      'socks pass {', '  from: 127.0.0.1/32 to: 127.0.0.1/32', '  command: connect', '  log: connect error', '}',
      'socks pass {', '  from: 127.0.0.1/32 to: ::1/128', '  command: connect', '  log: connect error', '}',
      'socks block {', '  from: 0.0.0.0/0 to: 0.0.0.0/0', '  log: connect error', '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'danted.conf'), conf, { mode: 0o644 });
    const script = `mount --bind ${dir}/passwd /etc/passwd && mount --bind ${dir}/shadow /etc/shadow && exec danted -f ${dir}/danted.conf`;
    const p = startProcess('unshare', ['-m', 'sh', '-c', script]);
    try {
      await waitListening(p, port, 'danted');
    } catch (e) {
      await stopProcess(p);
      if (attempt < 2 && /bind|in use/i.test(String(e))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      url: `socks5://127.0.0.1:${port}`,
      port,
      log: p.output,
      stop: async () => {
        await stopProcess(p);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** `scheme://user:pass@host:port` with the credentials percent-encoded. */
export function withCredentials(url: string, user = PROXY_USER, pass = PROXY_PASS): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(pass);
  return u.href.replace(/\/$/, '');
}

/**
 * nghttpx (Debian's nghttp2-proxy): an independent HTTP/2 implementation with RFC 8441 on its frontend, here a TLS
 * reverse proxy on 127.0.0.1 in front of an HTTP/1.1 backend on 127.0.0.1:`backendPort`. It turns each extended
 * CONNECT stream into an HTTP/1.1 Upgrade to the backend; its access log (`log()`) records each request with the
 * protocol it came in on ("CONNECT ... HTTP/2").
 */
export async function startNghttpx(backendPort: number, tls: { cert: string; key: string }): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-nghttpx-'));
  writeFileSync(join(dir, 'cert.pem'), tls.cert);
  writeFileSync(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const p = startProcess('/usr/sbin/nghttpx', [
      `--frontend=127.0.0.1,${port}`, `--backend=127.0.0.1,${backendPort};;no-tls`, '--workers=1', '--conf=/dev/null', '--no-ocsp',
      '--errorlog-file=/dev/stderr', '--accesslog-file=/dev/stdout', '--log-level=WARN', join(dir, 'key.pem'), join(dir, 'cert.pem'),
    ]);
    try {
      await waitListening(p, port, 'nghttpx');
    } catch (e) {
      await stopProcess(p);
      if (attempt < 2 && /bind|in use/i.test(String(e))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      url: `https://127.0.0.1:${port}`,
      port,
      log: p.output,
      stop: async () => {
        await stopProcess(p);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
