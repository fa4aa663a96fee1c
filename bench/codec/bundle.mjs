// Bundles the codec's TypeScript sources (and the optional wasm masker) into one ES module for the benchmarks, so
// they measure the current src/ without a prior `build.mjs` run. Output: os tmpdir, never committed.
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceAliases } from '../../packages/devtools/workspace.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * STREAMSOCKET_BENCH_OVERRIDE='mask.js=/abs/mask.ts,frame-decoder.js=/abs/dec.ts' makes the codec's modules import
 * those files instead of their src/ siblings: for measuring a proposed change to someone else's module before
 * proposing it. An override may import the real module by absolute path.
 */
function overrides() {
  const spec = process.env.STREAMSOCKET_BENCH_OVERRIDE;
  if (!spec) return [];
  const map = new Map(spec.split(',').map((kv) => kv.split('=')));
  return [{
    name: 'bench-override',
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (a) => {
        const file = map.get(a.path.slice(2));
        return file && a.importer.includes('/packages/codec/src/') && a.importer !== file ? { path: file } : undefined;
      });
    },
  }];
}

export async function bundleCodec() {
  const plugins = overrides();
  const dir = mkdtempSync(join(tmpdir(), 'streamsocket-bench-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, [
    `export * from ${JSON.stringify(join(root, 'packages/codec/src/index.ts'))};`,
    `export { maskScalar as jsMask } from ${JSON.stringify(join(root, "packages/codec/src/mask.ts"))};`,
    `export { createWasmMasker } from ${JSON.stringify(join(root, 'packages/codec/src/mask-wasm.ts'))};`,
    `export { getZlib, setZlibForTesting } from ${JSON.stringify(join(root, 'packages/codec/src/deflate/zlib.ts'))};`,
  ].join('\n'));
  const outfile = join(dir, 'codec.mjs');
  await build({
    entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', target: 'es2022',
    // Workspace packages from their sources; @web-std/stream resolved as the test runner does.
    alias: sourceAliases(),
    external: ['node:*'], logLevel: 'error', plugins,
  });
  return import(outfile);
}
