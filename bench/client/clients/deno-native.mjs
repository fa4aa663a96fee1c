// Deno's built-in WebSocket.
import { drive } from '../driver.mjs';
const open = (url) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  return ws;
};
drive(open, Deno.args, (l) => console.log(l), (c) => Deno.exit(c));
