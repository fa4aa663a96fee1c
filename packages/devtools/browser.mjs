// Runs the portable suites in headless Chromium (Debian's), driven by playwright-core: each test file is bundled
// for the browser with esbuild, served from a loopback HTTP server, and loaded as a module in a fresh page; the
// uvu summary it prints to the console is read like a process's output.
import { createServer } from 'node:http';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, basename } from 'node:path';
import { createRequire } from 'node:module';
import { root } from './workspace.mjs';
import { toolsDir, chromiumPath } from './runtimes.mjs';
import { testFiles, bundleTest, parseUvuSummary } from './test.mjs';

const PER_FILE_TIMEOUT_MS = 180_000;

// Flags for a sandboxed, offline machine: no background traffic (this network refuses it), no GPU.
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function launchChromium() {
  const require = createRequire(join(toolsDir, 'package.json'));
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

export async function testPackagesInBrowser(pkgs) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const files = new Map();
  for (const pkg of pkgs) {
    const dir = join(pkg.dir, '.test-build', 'browser');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of testFiles(pkg, { portableOnly: true })) {
      const name = `${pkg.name}--${basename(f).replace(/\.ts$/, '.mjs')}`;
      const out = join(dir, name);
      await bundleTest(f, out, 'browser');
      files.set(name, { src: f, out });
    }
  }
  if (files.size === 0) return totals;
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><meta charset="utf-8"><title>tests</title>');
      return;
    }
    const entry = files.get(url.pathname.slice(1));
    if (!entry) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    res.end(readFileSync(entry.out));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  try {
    for (const [name, { src }] of files) {
      const t0 = Date.now();
      const page = await browser.newPage();
      let out = '';
      page.on('console', (m) => { out += m.text() + '\n'; });
      page.on('pageerror', (e) => { out += `pageerror: ${e.message}\n`; });
      await page.goto(`${base}/`);
      await page.addScriptTag({ url: `${base}/${name}`, type: 'module' }).catch((e) => { out += `load error: ${e.message}\n`; });
      const deadline = Date.now() + PER_FILE_TIMEOUT_MS;
      while (!/Duration:/.test(out) && !/pageerror|load error/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await page.close();
      const rel = relative(root, src);
      const s = parseUvuSummary(out);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (!s || /pageerror/.test(out)) {
        totals.failed++;
        console.log(`  ✗ ${rel} [chromium]: ${s ? 'page error' : 'no summary'} (${secs} s)\n${out.split('\n').slice(-40).map((l) => '      ' + l).join('\n')}`);
        continue;
      }
      totals.passed += s.passed; totals.failed += s.failed; totals.skipped += s.skipped;
      console.log(`  ${s.failed ? '✗' : '✓'} ${rel} [chromium]: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''} (${secs} s)`);
      if (s.failed) console.log(out.split('\n').slice(-60).map((l) => '      ' + l).join('\n'));
    }
  } finally {
    await browser.close();
    server.close();
  }
  return totals;
}
