// The slowloris against `streamsocket serve --echo` with default options: see cliSlowlorisSuite in _attacks.ts.
import { cliSlowlorisSuite } from './_attacks.js';

cliSlowlorisSuite();
