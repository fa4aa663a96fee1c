// Runs examples/h3/server.mjs for real (in this process, a free loopback port): its HTTP route, and two WebSocket
// clients (ours and ws) on its /ws route, where every message is published to everyone; an unknown path is refused.
//   node examples/h3/test.mjs
import { connect } from '@streamsocket/node';
import { frameworkRouteTest } from '../_lib/framework-route.mjs';
import { start } from './server.mjs';

frameworkRouteTest('h3', start, connect);
