// @streamsocket/deno's browser-style WebSocket.
import { createWebSocket } from '@streamsocket/deno';
import { drive } from '../driver.mjs';
const WS = createWebSocket({ maxMessageSize: 64 * 1024 * 1024 });
const open = (url) => {
  const ws = new WS(url);
  ws.binaryType = 'arraybuffer';
  return ws;
};
drive(open, Deno.args, (l) => console.log(l), (c) => Deno.exit(c));
