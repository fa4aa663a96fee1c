// Raw TCP echo on Bun (Bun.listen): the ceiling for any WebSocket server on Bun.
// socket.write() may take only part of the data; the rest waits for `drain`, and reading is not throttled
// by Bun's socket API, so the queue is bounded by the client's in-flight window (as in every cell of this bench).
const server = Bun.listen({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    open(socket) { socket.data = { queue: [] }; },
    data(socket, data) {
      const q = socket.data.queue;
      if (q.length > 0) { q.push(data); return; }
      const n = socket.write(data);
      if (n < data.length) q.push(data.subarray(n));
    },
    drain(socket) {
      const q = socket.data.queue;
      while (q.length > 0) {
        const head = q[0];
        const n = socket.write(head);
        if (n < head.length) { q[0] = head.subarray(n); return; }
        q.shift();
      }
    },
    error() {},
  },
});
console.log(`PORT ${server.port}`);
