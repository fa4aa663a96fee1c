// Runs the chat example for real: the server on a free loopback port, two tabs of headless Chromium (Debian's,
// driven by playwright-core from .tools/) that type into the page and read each other's messages, plus the
// server's refusals (foreign Origin, wrong path) checked with @streamsocket/node's client.
// Also runs `npm start`'s entry (packages/devtools/demo.mjs) as a process: URL printed, page served, Ctrl-C.
//   node examples/chat/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { connect } from '@streamsocket/node';
import { ensureTools, toolsDir, chromiumPath } from '../../packages/devtools/runtimes.mjs';
import { chromiumArgs } from '../../packages/devtools/browser.mjs';
import { startChat, PROTOCOL } from './server.mjs';

if (!existsSync(chromiumPath) || !existsSync(join(toolsDir, 'node_modules', 'playwright-core', 'package.json'))) ensureTools();
const { chromium } = createRequire(join(toolsDir, 'package.json'))('playwright-core');

const STEP_MS = 10_000;

test('two browser tabs exchange messages through the server', async () => {
  const chat = await startChat();
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, timeout: 30_000 });
  try {
    // Two contexts: two independent "people", as two browsers would be.
    const [a, b] = await Promise.all([browser.newContext(), browser.newContext()].map(async (c) => (await c).newPage()));
    for (const p of [a, b]) p.setDefaultTimeout(STEP_MS);
    await a.goto(chat.url);
    await a.locator('#status.open').waitFor();
    await b.goto(chat.url);
    await b.locator('#status.open').waitFor();
    assert.match(await a.locator('#who').textContent(), /you are guest-1/);
    assert.match(await b.locator('#who').textContent(), /you are guest-2/);
    await a.locator('#log').getByText('guest-2 joined (2 online)').waitFor();

    await a.locator('#text').fill('hello from A <b>not bold</b>');
    await a.locator('#text').press('Enter');
    await b.locator('#log li', { hasText: 'hello from A' }).waitFor();
    const line = await b.locator('#log li', { hasText: 'hello from A' }).innerHTML();
    assert.match(line, /<span class="name">guest-1<\/span>hello from A &lt;b&gt;not bold&lt;\/b&gt;/, 'shown as text, never as HTML');

    await b.locator('#text').fill('hi A, B here');
    await b.locator('#send').click();
    await a.locator('#log li', { hasText: 'hi A, B here' }).waitFor();
    // The sender sees its own message too (it went through the server), marked as its own.
    await b.locator('#log li.me', { hasText: 'hi A, B here' }).waitFor();

    await b.close();
    await a.locator('#log').getByText('guest-2 left (1 online)').waitFor();
  } finally {
    await browser.close();
    await chat.close();
  }
});

test('a program can join (no Origin) and chat in plain lines; shutdown closes with 1001', async () => {
  const chat = await startChat();
  try {
    const ws = connect(chat.wsUrl, { protocols: [PROTOCOL], connectTimeout: 5000 });
    const { readable, writable, protocol } = await ws.opened;
    assert.is(protocol, PROTOCOL);
    const reader = readable.getReader();
    assert.equal(JSON.parse((await reader.read()).value), { type: 'welcome', name: 'guest-1', online: 1 });
    const writer = writable.getWriter();
    await writer.write('  plain line  ');
    const m = JSON.parse((await reader.read()).value);
    assert.is(m.type, 'message');
    assert.is(m.text, 'plain line');
    await writer.write(JSON.stringify({ text: 'x'.repeat(900) }));
    assert.is(JSON.parse((await reader.read()).value).text.length, 500, 'long messages are cut to MAX_TEXT');
    const closed = ws.closed;
    await chat.close();
    assert.equal(await closed, { closeCode: 1001, reason: 'server shutting down' });
  } finally {
    await chat.close().catch(() => {});
  }
});

test('refusals: a foreign page (Origin), another path; the page and its headers', async () => {
  const chat = await startChat();
  try {
    const refused = async (url, opts) => {
      const ws = connect(url, { connectTimeout: 5000, ...opts });
      try {
        await ws.opened;
      } catch (e) {
        return e.status;
      }
      ws.close();
      return 101;
    };
    assert.is(await refused(chat.wsUrl, { protocols: [PROTOCOL], origin: 'http://evil.example' }), 403);
    assert.is(await refused(chat.wsUrl.replace('/chat', '/other'), { protocols: [PROTOCOL] }), 404);
    const page = await fetch(chat.url);
    assert.is(page.status, 200);
    assert.match(page.headers.get('content-security-policy'), /connect-src 'self'/);
    assert.is((await fetch(chat.url + 'nope')).status, 404);
  } finally {
    await chat.close();
  }
});

test("npm start's demo (packages/devtools/demo.mjs): prints the URL and what to do, serves it, stops on Ctrl-C", async () => {
  const demo = fileURLToPath(new URL('../../packages/devtools/demo.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(demo)}); await main();`], {
    env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const deadline = Date.now() + 15_000;
    while (!/Ctrl-C stops the server/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = /Open (http:\/\/127\.0\.0\.1:\d+\/) in two browser tabs/.exec(out)?.[1];
    assert.ok(url, out);
    assert.match(out, /connect ws:\/\/127\.0\.0\.1:\d+\/chat --protocol chat\.v1/);
    assert.match(await (await fetch(url)).text(), /<title>streamsocket chat<\/title>/);
    child.kill('SIGINT');
    assert.equal(await exited, { code: 0, signal: null });
    assert.match(out, /stopping: closing 0 connection\(s\) with 1001/);
  } finally {
    clearTimeout(kill);
    child.kill('SIGKILL');
  }
});

test.run();
