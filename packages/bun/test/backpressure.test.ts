/** End-to-end backpressure through the Bun adapter (the suite: packages/devtools/testkit/backpressure-suite.ts). */
import { connect, serve } from '../src/index.js';
import { backpressureSuite } from '../../devtools/testkit/backpressure-suite.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inBun } from './sides.js';

if (inBun) backpressureSuite('bun: end-to-end backpressure', { serve, connect });
else skipOutside('Bun', 'backpressure.test.ts');
