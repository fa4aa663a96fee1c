/** One message as a stream over real TCP in Bun (streamMessages): 1 GiB to serve() and back, RSS bounded. */
import { connect, serve } from '../src/index.js';
import { streamSuite, type StreamAdapter } from '../../devtools/testkit/stream-suite.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inBun } from './sides.js';

const MiB = 1024 * 1024;
if (inBun) streamSuite('bun: streamed messages', { serve, connect, rss: () => process.memoryUsage.rss() } as unknown as StreamAdapter, 1024 * MiB);
else skipOutside('Bun', 'stream-messages.test.ts');
