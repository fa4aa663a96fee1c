#!/usr/bin/env node
// The `streamsocket` command. The code lives in dist/ (built from src/ by the workspace build); this file only
// hands it the process. process.exit() rather than waiting for the event loop: stdin may still be open when a
// connection ends, and stdout/stderr writes to pipes, files and terminals are synchronous on POSIX.
import { main } from '../dist/main.js';

process.exit(await main(process.argv.slice(2)));
