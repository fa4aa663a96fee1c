// `ws` on Node, configured as production users run it: with its native helpers bufferutil (masking) and
// utf-8-validate installed (ws loads them by itself when present; on Node >= 18.14 ws prefers the built-in
// buffer.isUtf8 for text validation, so utf-8-validate is installed but not the one doing the work).
// Echoes every message back with its own type. `--deflate`: permessage-deflate with ws's defaults.
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';

const require = createRequire(import.meta.url);
// Fail loudly rather than benchmark ws's JavaScript fallback by accident.
if (require('bufferutil').mask.toString().indexOf('[native code]') < 0) throw new Error('bufferutil is not the native build');

const deflate = process.argv.includes('--deflate');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`PORT ${wss.address().port}`));
