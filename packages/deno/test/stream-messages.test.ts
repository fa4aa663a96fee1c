/** One message as a stream over real TCP in Deno (streamMessages): 1 GiB to serve() and back, RSS bounded. */
import { connect, serve } from '../src/index.js';
import { streamSuite, type StreamAdapter } from '../../devtools/testkit/stream-suite.js';
import { skipOutside } from '../../devtools/testkit/pair-suite.js';
import { inDeno } from './sides.js';

const MiB = 1024 * 1024;
const adapter = { serve, connect, rss: () => Deno.memoryUsage().rss };
if (inDeno) streamSuite('deno: streamed messages', adapter as unknown as StreamAdapter, 1024 * MiB);
else skipOutside('Deno', 'stream-messages.test.ts');
