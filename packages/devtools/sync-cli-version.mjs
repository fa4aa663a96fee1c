// After `changeset version` bumps the packages' package.json, writes @streamsocket/cli's version into
// packages/cli/src/version.ts, the constant `streamsocket --version` prints (the CLI is bundled: it cannot read its
// package.json at run time). `npm run version-packages` runs it after sync-deno-versions.mjs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './workspace.mjs';

const versionFile = join(root, 'packages', 'cli', 'src', 'version.ts');
const constant = /^export const version = '([^']*)';$/m;

/** `{ file, source, npm }` when version.ts's constant differs from packages/cli/package.json's version, else null. */
export function cliVersionMismatch() {
  const npm = JSON.parse(readFileSync(join(root, 'packages', 'cli', 'package.json'), 'utf8')).version;
  const source = readFileSync(versionFile, 'utf8');
  const m = constant.exec(source);
  if (!m) throw new Error(`${versionFile}: no "export const version = '...';" line`);
  return m[1] === npm ? null : { file: versionFile, source: m[1], npm };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mismatch = cliVersionMismatch();
  if (mismatch) {
    writeFileSync(versionFile, readFileSync(versionFile, 'utf8').replace(constant, `export const version = '${mismatch.npm}';`));
    console.log(`${versionFile}: ${mismatch.npm}`);
  }
}
