// The 10,000-connection soak against a Bun server process: see _soak-runtimes.ts.
import { soakSuite } from './_soak-runtimes.js';

soakSuite('bun');
