// The workerd configuration (Cap'n Proto text) for the relay: one worker, one HTTP socket on loopback, and the
// network it may reach. Written next to the bundle because `embed` paths are relative to the config file.
import { writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function workerdConfig({ port, upstream, bundle }) {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "relay", worker = .relay),
    # The network behind the worker's outbound connections, connect() included. The default one allows only
    # public addresses; this worker exists to reach a server on this machine, so loopback, and only loopback.
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "relay") ],
);

const relay :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "${basename(bundle)}") ],
  compatibilityDate = "2025-09-01",
  bindings = [ (name = "UPSTREAM", text = ${JSON.stringify(upstream)}) ],
);
`;
}

/** Writes the config beside the bundle; returns its path. */
export function writeConfig(options) {
  const path = join(dirname(options.bundle), 'relay.capnp');
  writeFileSync(path, workerdConfig(options));
  return path;
}
