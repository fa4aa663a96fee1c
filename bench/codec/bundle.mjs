// Bundles the codec's TypeScript sources (and the optional wasm masker) into one ES module for the benchmarks, so
// they measure the current src/ without a prior `build.mjs` run. Output: os tmpdir, never committed.
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceAliases } from '../../packages/devtools/workspace.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function bundleCodec() {
  const dir = mkdtempSync(join(tmpdir(), 'streamsocket-bench-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, [
    `export * from ${JSON.stringify(join(root, 'packages/codec/src/index.ts'))};`,
    `export { mask as jsMask } from ${JSON.stringify(join(root, 'packages/codec/src/mask.ts'))};`,
    `export { createWasmMasker } from ${JSON.stringify(join(root, 'packages/codec/src/mask-wasm.ts'))};`,
  ].join('\n'));
  const outfile = join(dir, 'codec.mjs');
  await build({
    entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', target: 'es2022',
    // Workspace packages from their sources; @web-std/stream resolved as the test runner does.
    alias: sourceAliases(),
    external: ['node:*'], logLevel: 'error',
  });
  return import(outfile);
}
