// Release readiness beyond the npm tarballs (those are packaging.suite.mjs's): the API reference (`npm run docs`:
// typedoc from the TypeScript sources into docs/api/) builds without a single warning; `deno publish --dry-run`
// (JSR) passes for every member of packages/deno.json, which are exactly the published packages (the umbrella as
// @streamsocket/streamsocket, whose main entry is then run in Deno from those sources: test/jsr/echo.mjs), with
// versions equal to package.json's; the release configuration (.changeset/) versions exactly the published
// packages, and `npm run version-packages`, run in a scratch copy of the workspace's manifests, bumps them together
// and writes each one's CHANGELOG.md. Run by `npm test`; alone:
//   node packages/streamsocket/test/release.suite.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync, mkdirSync, copyFileSync, cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { root } from '../../devtools/workspace.mjs';
import { runtimeCommand, ensureTools } from '../../devtools/runtimes.mjs';
import { denoVersionMismatches } from '../../devtools/sync-deno-versions.mjs';
import { cliVersionMismatch } from '../../devtools/sync-cli-version.mjs';

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
  for (const m of denoMembers()) {
    const name = JSON.parse(readFileSync(join(root, 'packages', m, 'deno.json'), 'utf8')).name;
    assert.match(text, `Simulating publish of ${name}@`, `${name} would be published`);
    // Each member's own files are listed (the whole dry run fails on any member's type or slow-type error).
    assert.match(text, `/packages/${m.slice(2)}/deno.json`, `${name}: its files are listed`);
  }
  // The one warning allowed: codec's import of node:zlib by a computed specifier (kept from bundlers on purpose),
  // which JSR cannot rewrite and does not need to: `node:zlib` resolves without an import map.
  const warnings = [...text.matchAll(/^warning\[([a-z-]+)\]/gm)].map((m) => m[1]);
  assert.ok(warnings.every((w) => w === 'unanalyzable-dynamic-import'), text);
  assert.ok(warnings.length <= 1, text);
  assert.not.match(text, /^\s*error(\[|:)/m, text); // slow types are reported as error[missing-explicit-...]
});

test('the JSR umbrella in Deno, from the sources JSR would serve: one import serves, connects, echoes text and binary, closes with 1000', () => {
  ensureTools();
  const [deno] = runtimeCommand('deno');
  const { FORCE_COLOR: _forceColor, ...inherited } = process.env;
  const r = spawnSync(deno, ['run', '-A', '--no-prompt', '--quiet', join(root, 'packages', 'streamsocket', 'test', 'jsr', 'echo.mjs')], {
    cwd: join(root, 'packages'), encoding: 'utf8', timeout: 60_000, env: { ...inherited, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
  });
  const text = `${r.stdout}${r.stderr}`;
  assert.is(r.status, 0, text);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.is(out.runtime, 'deno');
  assert.is(out.text, 'héllo');
  assert.equal(out.binary, [1, 2, 3]);
  assert.equal(out.closed, { closeCode: 1000, reason: 'bye' });
  assert.is(out.textOpcode, 1, 'the /codec subpath');
  assert.match(out.unsupported, /upgrade\(req, socket, head\) is not available in Deno/);
  // Resolved from the TypeScript sources (the workspace members), not from an npm build in node_modules.
  const info = spawnSync(deno, ['info', '--json', join(root, 'packages', 'streamsocket', 'test', 'jsr', 'echo.mjs')], { cwd: join(root, 'packages'), encoding: 'utf8', timeout: 60_000, env: { ...inherited, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } });
  assert.is(info.status, 0, info.stderr);
  const files = JSON.parse(info.stdout).modules.map((m) => m.specifier);
  assert.ok(files.some((f) => f.endsWith('/packages/deno/src/index.ts')), 'the Deno adapter from src/');
  assert.not.ok(files.some((f) => f.includes('/dist/') || f.includes('/node_modules/')), files.join('\n'));
});

test('deno.json versions and names match package.json (npm run version-packages keeps them in step)', () => {
  assert.equal(denoVersionMismatches().map((m) => m.file), []);
});

test('`streamsocket --version` prints @streamsocket/cli\'s package.json version (npm run version-packages keeps it in step)', () => {
  assert.is(cliVersionMismatch(), null);
});

/** The JSR workspace's members, as written in packages/deno.json (`./handshake`, ...). */
function denoMembers() {
  return JSON.parse(readFileSync(join(root, 'packages', 'deno.json'), 'utf8')).workspace;
}

test('JSR workspace: every published package is a member (layers, adapters, cli, redis, the umbrella); npm: imports pin package.json\'s versions', async () => {
  const { publishedPackages } = await import('../../devtools/pack.mjs');
  const published = publishedPackages();
  const members = denoMembers().map((m) => m.replace(/^\.\//, ''));
  assert.equal([...members].sort(), published.map((p) => p.name).sort(), 'packages/deno.json lists exactly the published packages');
  for (const p of published) {
    const d = JSON.parse(readFileSync(join(p.dir, 'deno.json'), 'utf8'));
    // Entries are TypeScript sources (JSR publishes them as they are), and they exist.
    const targets = typeof d.exports === 'string' ? [d.exports] : Object.values(d.exports);
    for (const t of targets) {
      assert.match(t, /^\.\/src\/.+\.ts$/, `${p.name}: ${t} is a TypeScript source`);
      assert.ok(existsSync(join(p.dir, t)), `${p.name}: ${t} exists`);
    }
    // A third-party dependency is the npm package at the version npm users get.
    for (const [spec, target] of Object.entries(d.imports ?? {})) {
      const m = /^npm:(@?[^@]+)@(.+)$/.exec(target);
      assert.ok(m, `${p.name}: ${spec} -> ${target} is an npm: specifier`);
      assert.is(m[1], spec);
      assert.is(m[2], p.json.dependencies?.[spec], `${p.name}: ${spec} at package.json's version`);
    }
  }
  // The umbrella: JSR has no export conditions, so "." is the Deno entry; the subpaths are npm's.
  const umbrella = JSON.parse(readFileSync(join(root, 'packages', 'streamsocket', 'deno.json'), 'utf8'));
  const npmExports = JSON.parse(readFileSync(join(root, 'packages', 'streamsocket', 'package.json'), 'utf8')).exports;
  assert.is(umbrella.exports['.'], './src/deno.ts');
  assert.is(npmExports['.'].deno.default, './dist/deno.js', 'npm\'s deno condition is the same entry');
  assert.equal(Object.keys(umbrella.exports).sort(), Object.keys(npmExports).filter((k) => k !== './package.json').sort());
  for (const [k, t] of Object.entries(umbrella.exports)) {
    if (k === '.') continue;
    assert.is(t.replace(/^\.\/src\/(.+)\.ts$/, './dist/$1.js'), npmExports[k].default, `${k}: same module as on npm`);
  }
});

/**
 * A scratch copy of what `changeset version` and sync-deno-versions.mjs read and write: the root manifest, the
 * pnpm workspace globs, .changeset/, every workspace package's package.json (and deno.json), and the three
 * devtools modules the sync script needs; node_modules is a link to the workspace's (the changesets CLI and its
 * changelog generator).
 */
function manifestCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'streamsocket-release-'));
  const copy = (rel) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    copyFileSync(join(root, rel), join(dir, rel));
  };
  copy('package.json');
  copy('pnpm-workspace.yaml');
  copy(join('packages', 'deno.json'));
  cpSync(join(root, '.changeset'), join(dir, '.changeset'), { recursive: true });
  for (const parent of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, parent))) {
      for (const f of ['package.json', 'deno.json']) if (existsSync(join(root, parent, name, f))) copy(join(parent, name, f));
    }
  }
  if (existsSync(join(root, 'bench', 'package.json'))) copy(join('bench', 'package.json'));
  for (const f of ['sync-deno-versions.mjs', 'sync-cli-version.mjs', 'pack.mjs', 'workspace.mjs']) copy(join('packages', 'devtools', f));
  copy(join('packages', 'cli', 'src', 'version.ts'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

test('npm run version-packages (in a scratch copy): one version for every published package, a CHANGELOG.md each, deno.json and the CLI version in step', async () => {
  const { publishedPackages } = await import('../../devtools/pack.mjs');
  const published = publishedPackages();
  const before = new Map(published.map((p) => [p.name, p.json.version]));
  const privateBefore = readdirSync(join(root, 'examples')).filter((e) => existsSync(join(root, 'examples', e, 'package.json')))
    .map((e) => [e, JSON.parse(readFileSync(join(root, 'examples', e, 'package.json'), 'utf8'))]);
  const dir = manifestCopy();
  try {
    // A changeset of our own, so that there is something to release whatever is pending in the repository.
    const probe = 'Release suite probe: this entry exists only in a scratch copy.';
    writeFileSync(join(dir, '.changeset', 'release-suite-probe.md'), `---\n"@streamsocket/handshake": patch\n---\n\n${probe}\n`);
    const r = spawnSync('npm', ['run', 'version-packages'], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    const text = `${r.stdout}${r.stderr}`;
    assert.is(r.status, 0, text);
    // Every pending changeset was consumed.
    assert.equal(readdirSync(join(dir, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md'), [], text);
    const versions = new Set();
    for (const p of published) {
      const pkgDir = join(dir, 'packages', p.name);
      const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
      versions.add(version);
      assert.is.not(version, before.get(p.name), `${p.json.name} bumped`);
      const log = join(pkgDir, 'CHANGELOG.md');
      assert.ok(existsSync(log), `${p.json.name}: CHANGELOG.md written`);
      const changelog = readFileSync(log, 'utf8');
      assert.match(changelog, `# ${p.json.name}`);
      assert.match(changelog, `## ${version}`, `${p.json.name}: an entry for ${version}`);
      if (p.json.name === '@streamsocket/handshake') assert.match(changelog, probe);
      if (existsSync(join(pkgDir, 'deno.json'))) assert.is(JSON.parse(readFileSync(join(pkgDir, 'deno.json'), 'utf8')).version, version, `${p.name}/deno.json follows`);
    }
    assert.is(versions.size, 1, `one version for all (fixed group): ${[...versions].join(', ')}`);
    assert.match(readFileSync(join(dir, 'packages', 'cli', 'src', 'version.ts'), 'utf8'), `export const version = '${[...versions][0]}';`, 'the CLI prints the new version');
    // Private packages are neither versioned nor given a changelog (changesets may reformat their package.json).
    for (const [e, json] of privateBefore) {
      assert.equal(JSON.parse(readFileSync(join(dir, 'examples', e, 'package.json'), 'utf8')), json, `examples/${e}: same manifest`);
      assert.not.ok(existsSync(join(dir, 'examples', e, 'CHANGELOG.md')), `examples/${e}: no changelog`);
    }
    // The repository itself is untouched.
    for (const p of publishedPackages()) assert.is(p.json.version, before.get(p.name), `${p.json.name}: the workspace's version did not move`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
