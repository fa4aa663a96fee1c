// Issue 15's attacks (slowloris from many addresses, reconnect storm) against a Node server process: see _attacks.ts.
import { attackSuite } from './_attacks.js';

attackSuite('node');
