import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommandLine, parseMs, parseHeader, parseWsUrl, UsageError, mainHelp, connectHelp, serveHelp, DEFAULT_CONNECT_TIMEOUT, DEFAULT_LINGER } from '../src/index.js';

const usage = (argv: string[], re: RegExp): void => {
  try {
    parseCommandLine(argv);
  } catch (e) {
    assert.instance(e, UsageError);
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/, 'one line');
    return;
  }
  assert.unreachable(`expected a usage error for ${argv.join(' ')}`);
};

test('help: no argument, --help, -h, help <command>, <command> --help', () => {
  assert.equal(parseCommandLine([]), { command: 'help', text: mainHelp });
  assert.equal(parseCommandLine(['--help']), { command: 'help', text: mainHelp });
  assert.equal(parseCommandLine(['-h']), { command: 'help', text: mainHelp });
  assert.equal(parseCommandLine(['help', 'connect']), { command: 'help', text: connectHelp });
  assert.equal(parseCommandLine(['help', 'serve']), { command: 'help', text: serveHelp });
  assert.equal(parseCommandLine(['connect', '--help']), { command: 'help', text: connectHelp });
  assert.equal(parseCommandLine(['serve', '-h']), { command: 'help', text: serveHelp });
  // --help wins over missing required arguments: it is what a confused user types.
  assert.equal(parseCommandLine(['serve', '--help', '--bogus-free']).command, 'help');
  assert.equal(parseCommandLine(['--version']), { command: 'version' });
});

test('help texts name every option the parser accepts', () => {
  for (const flag of ['--protocol', '--header', '--origin', '--insecure', '--ping-interval', '--binary', '--timeout', '--deflate', '--linger']) {
    assert.ok(connectHelp.includes(flag), `connect help mentions ${flag}`);
  }
  for (const flag of ['--port', '--host', '--echo', '--broadcast', '--exec', '--binary', '--tls-cert', '--tls-key', '--protocol', '--quiet', '--deflate', '--ping-interval']) {
    assert.ok(serveHelp.includes(flag), `serve help mentions ${flag}`);
  }
});

test('unknown commands and options are errors, not ignored', () => {
  usage(['conect', 'ws://x'], /unknown command 'conect'/);
  usage(['--verbose'], /unknown option/);
  usage(['connect', 'ws://x', '--bogus'], /bogus/);
  usage(['help', 'nope'], /unknown command 'nope'/);
});

test('connect: defaults', () => {
  const c = parseCommandLine(['connect', 'ws://127.0.0.1:8080/chat?x=1']);
  assert.is(c.command, 'connect');
  if (c.command !== 'connect') return;
  assert.is(c.options.url.href, 'ws://127.0.0.1:8080/chat?x=1');
  assert.equal(c.options.protocols, []);
  assert.equal(c.options.headers, []);
  assert.is(c.options.origin, undefined);
  assert.is(c.options.insecure, false);
  assert.is(c.options.pingInterval, 0);
  assert.is(c.options.binary, false);
  assert.is(c.options.timeout, DEFAULT_CONNECT_TIMEOUT);
  assert.is(c.options.deflate, false);
  assert.is(c.options.linger, DEFAULT_LINGER);
});

test('connect: every option, repeatable ones repeated, short forms', () => {
  const c = parseCommandLine(['connect', 'wss://example.test/', '-p', 'mqtt', '--protocol', 'v2.chat',
    '-H', 'Authorization: Bearer abc', '--header', 'X-Trace:1', '--origin', 'https://app.test', '-k',
    '--ping-interval', '30s', '-b', '--timeout', '1500ms', '--deflate', '--linger', '0']);
  if (c.command !== 'connect') return assert.unreachable();
  assert.equal(c.options.protocols, ['mqtt', 'v2.chat']);
  assert.equal(c.options.headers, [['Authorization', 'Bearer abc'], ['X-Trace', '1']]);
  assert.is(c.options.origin, 'https://app.test');
  assert.is(c.options.insecure, true);
  assert.is(c.options.pingInterval, 30_000);
  assert.is(c.options.binary, true);
  assert.is(c.options.timeout, 1500);
  assert.is(c.options.deflate, true);
  assert.is(c.options.linger, 0);
});

test('connect: URL forms', () => {
  assert.is(parseWsUrl('127.0.0.1:9000').href, 'ws://127.0.0.1:9000/');
  assert.is(parseWsUrl('http://h/a').href, 'ws://h/a');
  assert.is(parseWsUrl('https://h/a').href, 'wss://h/a');
  assert.is(parseWsUrl('ws://[::1]:8080/').hostname, '[::1]');
  usage(['connect'], /missing <url>/);
  usage(['connect', 'ws://a', 'ws://b'], /unexpected argument 'ws:\/\/b'/);
  usage(['connect', 'ftp://h/'], /unsupported scheme 'ftp:'/);
  usage(['connect', 'ws://h/#frag'], /fragment/);
  usage(['connect', 'ws://'], /not a URL/);
});

test('connect: bad headers, protocols and durations are refused with the flag named', () => {
  assert.equal(parseHeader('Name:  spaced value  '), ['Name', 'spaced value']);
  usage(['connect', 'ws://h', '-H', 'NoColon'], /--header 'NoColon' is not 'Name: value'/);
  usage(['connect', 'ws://h', '-H', 'Bad Name: v'], /not a valid token/);
  usage(['connect', 'ws://h', '-H', 'X: a\r\nInjected: 1'], /line break/);
  usage(['connect', 'ws://h', '-p', 'two words'], /--protocol 'two words' is not a valid token/);
  usage(['connect', 'ws://h', '--timeout', 'soon'], /--timeout 'soon' is not a duration/);
  usage(['connect', 'ws://h', '--ping-interval', '-5'], /ping-interval/);
  usage(['connect', 'ws://h', '--timeout', '100000000m'], /too long/);
});

test('durations: units', () => {
  assert.is(parseMs('250', '--x', 0, 'connect'), 250);
  assert.is(parseMs('250ms', '--x', 0, 'connect'), 250);
  assert.is(parseMs('1.5s', '--x', 0, 'connect'), 1500);
  assert.is(parseMs('2m', '--x', 0, 'connect'), 120_000);
  assert.is(parseMs(undefined, '--x', 7, 'connect'), 7);
});

test('serve: modes, defaults and options', () => {
  const e = parseCommandLine(['serve', '--port', '0', '--echo']);
  if (e.command !== 'serve') return assert.unreachable();
  assert.equal(e.options.mode, { kind: 'echo' });
  assert.is(e.options.port, 0);
  assert.is(e.options.host, '127.0.0.1');
  assert.is(e.options.quiet, false);
  assert.is(e.options.tlsCert, undefined);
  const b = parseCommandLine(['serve', '-p', '8080', '--broadcast', '-q', '--protocol', 'chat', '--host', '::1']);
  if (b.command !== 'serve') return assert.unreachable();
  assert.equal(b.options.mode, { kind: 'broadcast' });
  assert.is(b.options.quiet, true);
  assert.is(b.options.host, '::1');
  assert.equal(b.options.protocols, ['chat']);
  const x = parseCommandLine(['serve', '--port', '1', '--exec', 'tr a-z A-Z', '--binary', '--tls-cert', 'c.pem', '--tls-key', 'k.pem']);
  if (x.command !== 'serve') return assert.unreachable();
  assert.equal(x.options.mode, { kind: 'exec', command: 'tr a-z A-Z' });
  assert.is(x.options.binary, true);
  assert.is(x.options.tlsCert, 'c.pem');
  assert.is(x.options.tlsKey, 'k.pem');
});

test('serve: mistakes', () => {
  usage(['serve', '--echo'], /missing --port/);
  usage(['serve', '--port', '8080'], /choose what to serve/);
  usage(['serve', '--port', '8080', '--echo', '--broadcast'], /exclude one another/);
  usage(['serve', '--port', '70000', '--echo'], /out of range/);
  usage(['serve', '--port', 'http', '--echo'], /not a whole number/);
  usage(['serve', '--port', '1', '--exec', '  '], /needs a command/);
  usage(['serve', '--port', '1', '--echo', '--tls-cert', 'c.pem'], /go together/);
  usage(['serve', '--port', '1', '--echo', 'extra'], /unexpected argument 'extra'/);
  usage(['serve', '--port'], /port/);
});

test.run();
