// crossws on Node (its node adapter, on node:http): every peer subscribes to 'all'; peer.publish sends to every
// other subscriber.
import { createServer } from 'node:http';
import crossws from 'crossws/adapters/node';

const ws = crossws({
  hooks: {
    open(peer) { peer.subscribe('all'); },
    message(peer, message) { peer.publish('all', message.uint8Array()); },
  },
});
const server = createServer((_req, res) => res.end('websocket only\n'));
server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
