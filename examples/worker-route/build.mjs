// Bundles worker.js with esbuild into one ES module for workerd, from the TypeScript sources of the session,
// codec and handshake packages (as examples/edge does). `node:*` stays external: without nodejs_compat the codec's
// dynamic import of node:zlib fails and nothing needs it here (the platform compresses, if at all).
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, basename } from 'node:path';
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
    external: ['node:*'],
    logLevel: 'warning',
  });
  return bundlePath;
}

/** Writes the workerd configuration beside the bundle (embed paths are relative to it); returns its path. */
export function writeConfig({ port, bundle }) {
  const path = join(dirname(bundle), 'worker-route.capnp');
  writeFileSync(path, `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .main) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const main :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "${basename(bundle)}") ],
  compatibilityDate = "2025-09-01",
);
`);
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await buildWorker());
