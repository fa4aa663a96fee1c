// ws 8's client with bufferutil and utf-8-validate, as production users run it; Buffers (its native binaryType).
import WebSocket from 'ws';
import { drive } from '../driver.mjs';
const open = (url) => new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
drive(open, process.argv.slice(2), (l) => console.log(l), (c) => process.exit(c));
