// Node's global WebSocket (undici).
import { drive } from '../driver.mjs';
const open = (url) => {
  const ws = new globalThis.WebSocket(url);
  ws.binaryType = 'arraybuffer';
  return ws;
};
drive(open, process.argv.slice(2), (l) => console.log(l), (c) => process.exit(c));
