// After `changeset version` bumps the packages' package.json, gives each deno.json (JSR) the same version, so
// that npm and JSR publish one version of each package. `npm run version-packages` runs both.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { publishedPackages } from './pack.mjs';

export function denoVersionMismatches() {
  const out = [];
  for (const p of publishedPackages()) {
    const f = join(p.dir, 'deno.json');
    if (!existsSync(f)) continue;
    const d = JSON.parse(readFileSync(f, 'utf8'));
    if (d.version !== p.json.version || d.name !== (p.json.name.startsWith('@') ? p.json.name : `@streamsocket/${p.json.name}`)) out.push({ file: f, deno: d, npm: p.json });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { file, deno, npm } of denoVersionMismatches()) {
    deno.version = npm.version;
    writeFileSync(file, JSON.stringify(deno, null, 2) + '\n');
    console.log(`${file}: ${npm.version}`);
  }
}
