// Release readiness beyond the npm tarballs (those are packaging.suite.mjs's): the API reference (`npm run docs`:
// typedoc from the TypeScript sources into docs/api/) builds without a single warning; `deno publish --dry-run`
// (JSR) passes for the packages that have a deno.json, with their versions equal to package.json's; the release
// configuration (.changeset/) versions exactly the published packages. Run by `npm test`; alone:
//   node packages/streamsocket/test/release.suite.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { root } from '../../devtools/workspace.mjs';
import { runtimeCommand, ensureTools } from '../../devtools/runtimes.mjs';
import { denoVersionMismatches } from '../../devtools/sync-deno-versions.mjs';

test('typedoc builds the API reference with no warnings (treatWarningsAsErrors)', () => {
  const out = mkdtempSync(join(tmpdir(), 'streamsocket-api-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], { cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
    const text = `${r.stdout}${r.stderr}`;
    assert.is(r.status, 0, text);
    assert.not.match(text, /\[warning\]|\[error\]/i, text);
    assert.ok(existsSync(join(out, 'index.html')));
    // The reference covers the packages' public API: one page per package, with the central classes in it.
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    for (const pkg of ['handshake', 'codec', 'session', 'node', 'deno', 'bun']) assert.match(index, pkg, `${pkg} documented`);
    assert.ok(existsSync(join(out, 'classes')) || existsSync(join(out, 'modules')), 'pages per symbol');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('changesets: the published packages version together; pending changesets name only published packages', async () => {
  const { publishedPackages } = await import('../../devtools/pack.mjs');
  const published = publishedPackages().map((p) => p.json.name).sort();
  const config = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8'));
  assert.equal([...config.fixed[0]].sort(), published, 'one fixed group: every published package, nothing else');
  assert.is(config.access, 'public');
  assert.equal(config.privatePackages, { version: false, tag: false });
  for (const f of readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const m = /^---\n([\s\S]*?)\n---\n\s*\S/.exec(readFileSync(join(root, '.changeset', f), 'utf8'));
    assert.ok(m, `${f}: front matter and a description`);
    for (const line of m[1].split('\n')) {
      const e = /^"([^"]+)":\s*(patch|minor|major)$/.exec(line.trim());
      assert.ok(e, `${f}: "${line}" is "package": bump`);
      assert.ok(published.includes(e[1]), `${f}: ${e[1]} is published`);
    }
  }
});

test('deno publish --dry-run (JSR): type check, no slow types, every file it would upload', () => {
  ensureTools();
  const [deno] = runtimeCommand('deno');
  // packages/deno.json is the JSR workspace: its members are the packages with a deno.json. --allow-dirty: CI's
  // clone is clean, a developer's tree usually is not. npm: imports are fetched from the npm registry.
  // Deno takes any FORCE_COLOR (the test runner sets FORCE_COLOR=0) as a reason to colour: leave it out.
  const { FORCE_COLOR: _forceColor, ...inherited } = process.env;
  const denoEnv = { ...inherited, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' };
  const r = spawnSync(deno, ['publish', '--dry-run', '--allow-dirty'], { cwd: join(root, 'packages'), encoding: 'utf8', timeout: 240_000, env: denoEnv });
  // Colour codes stripped all the same, should another variable turn them on.
  const text = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  assert.is(r.status, 0, text);
  assert.match(text, /Success Dry run complete/, text);
  const members = JSON.parse(readFileSync(join(root, 'packages', 'deno.json'), 'utf8')).workspace;
  for (const m of members) {
    const name = JSON.parse(readFileSync(join(root, 'packages', m, 'deno.json'), 'utf8')).name;
    assert.match(text, `Simulating publish of ${name}@`, `${name} would be published`);
  }
  // The one warning allowed: codec's import of node:zlib by a computed specifier (kept from bundlers on purpose),
  // which JSR cannot rewrite and does not need to: `node:zlib` resolves without an import map.
  const warnings = [...text.matchAll(/^warning\[([a-z-]+)\]/gm)].map((m) => m[1]);
  assert.ok(warnings.every((w) => w === 'unanalyzable-dynamic-import'), text);
  assert.ok(warnings.length <= 1, text);
  assert.not.match(text, /^\s*error(\[|:)/m, text); // slow types are reported as error[missing-explicit-...]
});

test('deno.json versions and names match package.json (npm run version-packages keeps them in step)', () => {
  assert.equal(denoVersionMismatches().map((m) => m.file), []);
});

test.run();
