// Raw TCP echo on Node: the ceiling for any WebSocket server on Node (same event loop and socket layer, no framing).
import net from 'node:net';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket); // pipe() applies backpressure: it pauses reading while the write side is full
});
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
