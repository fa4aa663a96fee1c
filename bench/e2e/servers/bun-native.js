// Bun's own WebSocket server (Bun.serve with `websocket`, uWebSockets underneath). Echoes each message with its
// own type. Bun.serve's WebSocket compression is off by default; `--deflate` turns it on.
const deflate = process.argv.includes('--deflate');
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('expected a WebSocket upgrade', { status: 426 });
  },
  websocket: {
    perMessageDeflate: deflate,
    maxPayloadLength: 64 * 1024 * 1024,
    message(ws, message) { ws.send(message); },
  },
});
console.log(`PORT ${server.port}`);
