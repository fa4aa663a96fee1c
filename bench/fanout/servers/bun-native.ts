// Bun.serve's own topics: every socket subscribes to 'all'; ws.publish sends to every other subscriber (uWebSockets
// frames once and writes to each).
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('websocket only', { status: 426 });
  },
  websocket: {
    backpressureLimit: 64 * 1024 * 1024,
    open(ws) { ws.subscribe('all'); },
    message(ws, message) { ws.publish('all', message); },
  },
});
console.log(`PORT ${server.port}`);
