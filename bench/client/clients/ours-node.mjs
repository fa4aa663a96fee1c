// @streamsocket/node's browser-style WebSocket (the same session under its WebSocketStream API).
import { createWebSocket } from '@streamsocket/node';
import { drive } from '../driver.mjs';
const classes = new Map();
const open = (url, proxy) => {
  let WS = classes.get(proxy ?? '');
  if (!WS) classes.set(proxy ?? '', (WS = createWebSocket({ maxMessageSize: 64 * 1024 * 1024, ...(proxy ? { proxy } : {}) })));
  const ws = new WS(url);
  ws.binaryType = 'arraybuffer';
  return ws;
};
drive(open, process.argv.slice(2), (l) => console.log(l), (c) => process.exit(c));
