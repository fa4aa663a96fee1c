// Bundles worker.js with esbuild into one ES module for workerd, straight from the TypeScript sources of
// @streamsocket/session, codec and handshake (the same aliases the test runner uses). `cloudflare:sockets` is
// workerd's own; `node:*` stays external too: the codec only ever imports node:zlib dynamically, and without
// nodejs_compat that import fails and permessage-deflate is simply not offered.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { sourceAliases } from '../../packages/devtools/workspace.mjs';

export const bundlePath = fileURLToPath(new URL('./.build/worker.bundle.js', import.meta.url));

export async function buildWorker() {
  await build({
    entryPoints: [fileURLToPath(new URL('./worker.js', import.meta.url))],
    outfile: bundlePath,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: sourceAliases(),
    external: ['cloudflare:sockets', 'node:*'],
    logLevel: 'warning',
  });
  return bundlePath;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await buildWorker());
