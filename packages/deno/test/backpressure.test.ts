/** End-to-end backpressure through the Deno adapter (the suite: packages/devtools/testkit/backpressure-suite.ts). */
import { connect, serve } from '../src/index.js';
import { backpressureSuite } from '../../devtools/testkit/backpressure-suite.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inDeno } from './sides.js';

if (inDeno) backpressureSuite('deno: end-to-end backpressure', { serve, connect });
else skipOutside('Deno', 'backpressure.test.ts');
