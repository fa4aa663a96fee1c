// The 10,000-connection soak against a Deno server process: see _soak-runtimes.ts.
import { soakSuite } from './_soak-runtimes.js';

soakSuite('deno');
