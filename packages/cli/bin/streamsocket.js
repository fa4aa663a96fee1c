#!/usr/bin/env node
// The `streamsocket` command. The code lives in dist/ (built from src/ by the workspace build); this file only
// hands it the process. process.exit() rather than waiting for the event loop: stdin may still be open when a
// connection ends, and stdout/stderr writes to pipes, files and terminals are synchronous on POSIX.
let main;
try {
  ({ main } = await import('../dist/main.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  process.stderr.write(`streamsocket: not built yet (${e.message.split('\n')[0]}); run \`npm run build\` at the repository root\n`);
  process.exit(1);
}
process.exit(await main(process.argv.slice(2)));
