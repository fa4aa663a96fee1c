/**
 * Command-line parsing for `streamsocket`. Pure (no I/O) so that every rule is unit-tested without spawning.
 *
 * Built on `node:util`'s `parseArgs` (strict: an unknown flag is an error, never silently ignored), plus the
 * checks it cannot express: numbers in range, mutually exclusive modes, `Name: value` headers, ws/wss URLs.
 * Every failure is a `UsageError` whose message is one line; the command prints it and exits with status 2.
 */
import { parseArgs } from 'node:util';
import { connectHelp, serveHelp, mainHelp } from './help.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The help text of the command the user was typing, shown after the message as a hint. */
  readonly command: 'connect' | 'serve' | undefined;
  constructor(message: string, command?: 'connect' | 'serve') {
    super(message);
    this.command = command;
  }
}

export interface ConnectOptions {
  url: URL;
  protocols: string[];
  headers: Array<[string, string]>;
  origin: string | undefined;
  insecure: boolean;
  /** ms between keepalive pings; 0 = none. */
  pingInterval: number;
  binary: boolean;
  /** ms the opening handshake (TCP + TLS + HTTP) may take. */
  timeout: number;
  deflate: boolean;
  /** ms of silence from the server, after the end of stdin, before closing. */
  linger: number;
}

export type ServeMode = { kind: 'echo' } | { kind: 'broadcast' } | { kind: 'exec'; command: string };

export interface ServeOptions {
  port: number;
  host: string;
  mode: ServeMode;
  binary: boolean;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  protocols: string[];
  quiet: boolean;
  deflate: boolean;
  /** ms between keepalive pings to each client; 0 = none. */
  pingInterval: number;
}

export type Command =
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'connect'; options: ConnectOptions }
  | { command: 'serve'; options: ServeOptions };

/** Default wait for the server's last answers after the end of stdin, ms. */
export const DEFAULT_LINGER = 500;
/** Default handshake timeout of `connect`, ms. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;

export function parseCommandLine(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case '-h':
    case '--help':
      return { command: 'help', text: mainHelp };
    case 'help':
      if (rest[0] === 'connect') return { command: 'help', text: connectHelp };
      if (rest[0] === 'serve') return { command: 'help', text: serveHelp };
      if (rest[0] === undefined) return { command: 'help', text: mainHelp };
      throw new UsageError(`no help for unknown command '${rest[0]}'`);
    case '-V':
    case '--version':
      return { command: 'version' };
    case 'connect':
      return parseConnect(rest);
    case 'serve':
      return parseServe(rest);
    default:
      throw new UsageError(first.startsWith('-') ? `unknown option '${first}' (a command comes first)` : `unknown command '${first}'`);
  }
}

/** Runs parseArgs, turning its errors into one-line UsageErrors of this command. */
function guarded<T>(command: 'connect' | 'serve', parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    // Node's messages are multi-line for some cases ("To specify an option argument starting with a dash...").
    throw new UsageError((e as Error).message.split('\n')[0]!, command);
  }
}

/** --help wins over every other mistake on the line: it is what a confused user types next. */
const wantsHelp = (args: readonly string[]): boolean => args.some((a) => a === '--help' || a === '-h');

function parseConnect(args: readonly string[]): Command {
  if (wantsHelp(args)) return { command: 'help', text: connectHelp };
  const { values, positionals } = guarded('connect', () => parseArgs({ args: [...args], allowPositionals: true, strict: true, options: {
    help: { type: 'boolean', short: 'h' },
    protocol: { type: 'string', short: 'p', multiple: true },
    header: { type: 'string', short: 'H', multiple: true },
    origin: { type: 'string', short: 'o' },
    insecure: { type: 'boolean', short: 'k' },
    'ping-interval': { type: 'string' },
    binary: { type: 'boolean', short: 'b' },
    timeout: { type: 'string', short: 't' },
    deflate: { type: 'boolean' },
    linger: { type: 'string', short: 'l' },
  } }));
  if (values.help) return { command: 'help', text: connectHelp };
  if (positionals.length === 0) throw new UsageError('missing <url> (for example ws://127.0.0.1:8080/)', 'connect');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'connect');
  const url = parseWsUrl(positionals[0]!);
  return {
    command: 'connect',
    options: {
      url,
      protocols: (values.protocol ?? []).map((p) => checkToken(p, '--protocol', 'connect')),
      headers: (values.header ?? []).map(parseHeader),
      origin: values.origin,
      insecure: values.insecure ?? false,
      pingInterval: parseMs(values['ping-interval'], '--ping-interval', 0, 'connect'),
      binary: values.binary ?? false,
      timeout: parseMs(values.timeout, '--timeout', DEFAULT_CONNECT_TIMEOUT, 'connect'),
      deflate: values.deflate ?? false,
      linger: parseMs(values.linger, '--linger', DEFAULT_LINGER, 'connect'),
    },
  };
}

function parseServe(args: readonly string[]): Command {
  if (wantsHelp(args)) return { command: 'help', text: serveHelp };
  const { values, positionals } = guarded('serve', () => parseArgs({ args: [...args], allowPositionals: true, strict: true, options: {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    echo: { type: 'boolean' },
    broadcast: { type: 'boolean' },
    exec: { type: 'string', short: 'e' },
    binary: { type: 'boolean', short: 'b' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    protocol: { type: 'string', multiple: true },
    quiet: { type: 'boolean', short: 'q' },
    deflate: { type: 'boolean' },
    'ping-interval': { type: 'string' },
  } }));
  if (values.help) return { command: 'help', text: serveHelp };
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, 'serve');
  if (values.port === undefined) throw new UsageError('missing --port N (0 picks a free port)', 'serve');
  const port = parseIntIn(values.port, '--port', 0, 65535, 'serve');
  const modes: ServeMode[] = [];
  if (values.echo) modes.push({ kind: 'echo' });
  if (values.broadcast) modes.push({ kind: 'broadcast' });
  if (values.exec !== undefined) {
    if (values.exec.trim() === '') throw new UsageError('--exec needs a command', 'serve');
    modes.push({ kind: 'exec', command: values.exec });
  }
  if (modes.length === 0) throw new UsageError('choose what to serve: --echo, --broadcast or --exec COMMAND', 'serve');
  if (modes.length > 1) throw new UsageError('--echo, --broadcast and --exec exclude one another', 'serve');
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together', 'serve');
  return {
    command: 'serve',
    options: {
      port,
      host: values.host ?? '127.0.0.1',
      mode: modes[0]!,
      binary: values.binary ?? false,
      tlsCert: cert,
      tlsKey: key,
      protocols: (values.protocol ?? []).map((p) => checkToken(p, '--protocol', 'serve')),
      quiet: values.quiet ?? false,
      deflate: values.deflate ?? false,
      pingInterval: parseMs(values['ping-interval'], '--ping-interval', 0, 'serve'),
    },
  };
}

export function parseWsUrl(text: string): URL {
  let url: URL;
  try {
    // A bare host:port is what people type; ws: is the only sensible scheme to assume.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `ws://${text}`);
  } catch {
    throw new UsageError(`'${text}' is not a URL`, 'connect');
  }
  // http(s) URLs name the same endpoint (the WHATWG WebSocket constructor accepts them too since 2023).
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`unsupported scheme '${url.protocol}' (use ws: or wss:)`, 'connect');
  if (url.hash) throw new UsageError('a WebSocket URL has no #fragment', 'connect');
  return url;
}

/** RFC 7230 token characters: what a subprotocol name and a header name may contain. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function checkToken(value: string, flag: string, command: 'connect' | 'serve'): string {
  if (!TOKEN.test(value)) throw new UsageError(`${flag} '${value}' is not a valid token`, command);
  return value;
}

export function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  if (i <= 0) throw new UsageError(`--header '${text}' is not 'Name: value'`, 'connect');
  const name = text.slice(0, i).trim();
  const value = text.slice(i + 1).trim();
  if (!TOKEN.test(name)) throw new UsageError(`--header name '${name}' is not a valid token`, 'connect');
  // CR, LF and NUL would let a value start a new header line (request smuggling); refuse them here already.
  if (/[\r\n\0]/.test(value)) throw new UsageError(`--header '${name}' has a line break in its value`, 'connect');
  return [name, value];
}

function parseIntIn(text: string, flag: string, min: number, max: number, command: 'connect' | 'serve'): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} '${text}' is not a whole number`, command);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${flag} ${n} is out of range ${min}..${max}`, command);
  return n;
}

/** Milliseconds, with an optional unit: `500`, `500ms`, `30s`, `2m`. */
export function parseMs(text: string | undefined, flag: string, fallback: number, command: 'connect' | 'serve'): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} '${text}' is not a duration (e.g. 500, 500ms, 30s, 2m)`, command);
  const n = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
  // setTimeout's limit; beyond it Node fires at once, which would turn a long interval into a busy loop.
  if (n > 2 ** 31 - 1) throw new UsageError(`${flag} '${text}' is too long`, command);
  return Math.round(n);
}
