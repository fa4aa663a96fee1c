// Packaging of every published package, checked on the tarballs a release would upload: `pnpm pack` (whose
// `prepack` builds), then the files and metadata in each tarball, publint (strict, suggestions included) and
// @arethetypeswrong/cli. Also proves that packing a fresh clone, where no dist/ exists yet, still ships dist/.
// Run by `npm test` (packages/devtools/all.mjs runs every packages/*/test/*.suite.mjs); alone:
//   node packages/streamsocket/test/packaging.suite.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { packAll, publishedPackages, tarballFiles, tarballManifest, publintTarball, attwTarball } from '../../devtools/pack.mjs';
import { root } from '../../devtools/workspace.mjs';

let packed;
test.before(() => {
  packed = packAll();
});
test.after(() => {
  if (packed) rmSync(packed.dest, { recursive: true, force: true });
});

/** Every file an `exports` map can resolve to (conditions nested), as paths inside the package. */
function exportTargets(exp, out = new Set()) {
  if (typeof exp === 'string') out.add(exp.replace(/^\.\//, ''));
  else if (exp && typeof exp === 'object') for (const v of Object.values(exp)) exportTargets(v, out);
  return out;
}

const names = publishedPackages().map((p) => p.json.name);

test('every published package is packed: the umbrella and the scoped packages', () => {
  assert.ok(names.includes('streamsocket'));
  assert.equal(names.filter((n) => n.startsWith('@streamsocket/')).sort(),
    ['@streamsocket/bun', '@streamsocket/cli', '@streamsocket/codec', '@streamsocket/deno', '@streamsocket/handshake', '@streamsocket/node', '@streamsocket/redis', '@streamsocket/session']);
});

for (const name of names) {
  test(`${name}: every export target is in the tarball, dependencies are versions, metadata complete`, () => {
    const tgz = packed.tarballs.get(name);
    const files = new Set(tarballFiles(tgz));
    const m = tarballManifest(tgz);
    for (const t of exportTargets(m.exports)) assert.ok(files.has(t), `${t} packed`);
    assert.ok(files.has('README.md'), 'README.md packed');
    for (const d of Object.values(m.dependencies ?? {})) assert.not.match(d, /^workspace:/, 'workspace: protocol replaced');
    for (const k of ['description', 'repository', 'keywords', 'engines', 'license', 'files']) assert.ok(m[k], `${k} present`);
    assert.is(typeof m.sideEffects, 'boolean', 'sideEffects declared');
    assert.ok(m.exports['.'] && JSON.stringify(m.exports['.']).includes('"default"'), 'a default condition (require() on Node 20.19+)');
    assert.ok(![...files].some((f) => f.startsWith('test/') || f.includes('.test-build')), 'no tests or build leftovers');
  });

  test(`${name}: publint reports nothing`, async () => {
    const messages = await publintTarball(packed.tarballs.get(name));
    assert.equal(messages, []);
  });

  test(`${name}: @arethetypeswrong/cli reports nothing`, () => {
    const r = attwTarball(packed.tarballs.get(name));
    assert.ok(r.ok, r.output);
  });
}

test('packing a fresh clone (no dist/ anywhere) builds first: the tarball holds dist/', () => {
  // A copy of the workspace's build inputs for the handshake package, without dist/: as `git clone` gives it.
  const dir = mkdtempSync(join(tmpdir(), 'streamsocket-fresh-'));
  try {
    for (const f of ['package.json', 'tsconfig.base.json', 'LICENSE']) cpSync(join(root, f), join(dir, f));
    mkdirSync(join(dir, 'packages', 'handshake'), { recursive: true });
    cpSync(join(root, 'packages', 'devtools'), join(dir, 'packages', 'devtools'), { recursive: true, filter: (s) => !s.includes('node_modules') });
    for (const f of ['package.json', 'tsconfig.json', 'README.md', 'src']) cpSync(join(root, 'packages', 'handshake', f), join(dir, 'packages', 'handshake', f), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    assert.not.ok(existsSync(join(dir, 'packages', 'handshake', 'dist')));
    const r = spawnSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: join(dir, 'packages', 'handshake'), encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'a tarball');
    const files = tarballFiles(join(dir, tgz));
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), files.join(' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
