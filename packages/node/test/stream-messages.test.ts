/** One message as a stream over real TCP (streamMessages): 1 GiB to serve() and back, RSS bounded (testkit/stream-suite). */
import { serve, connect } from '../src/index.js';
import { streamSuite, type StreamAdapter } from '../../devtools/testkit/stream-suite.js';

const MiB = 1024 * 1024;
streamSuite('node: streamed messages', { serve, connect, rss: () => process.memoryUsage.rss() } as unknown as StreamAdapter, Number(process.env.STREAMSOCKET_STREAM_MIB ?? 1024) * MiB);
