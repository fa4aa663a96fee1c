// Bun's built-in WebSocket (uWebSockets' client in native code).
import { drive } from '../driver.mjs';
const open = (url) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  return ws;
};
drive(open, process.argv.slice(2), (l) => console.log(l), (c) => process.exit(c));
