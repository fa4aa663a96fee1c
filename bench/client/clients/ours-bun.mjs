// @streamsocket/bun's browser-style WebSocket.
import { createWebSocket } from '@streamsocket/bun';
import { drive } from '../driver.mjs';
const WS = createWebSocket({ maxMessageSize: 64 * 1024 * 1024 });
const open = (url) => {
  const ws = new WS(url);
  ws.binaryType = 'arraybuffer';
  return ws;
};
drive(open, process.argv.slice(2), (l) => console.log(l), (c) => process.exit(c));
