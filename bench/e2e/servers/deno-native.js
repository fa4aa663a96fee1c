// Deno's own WebSocket server: Deno.serve + Deno.upgradeWebSocket. Echoes each message with its own type.
// Deno.upgradeWebSocket does not negotiate permessage-deflate, so this server has no deflate variant.
Deno.serve({
  hostname: '127.0.0.1',
  port: 0,
  onListen: ({ port }) => console.log(`PORT ${port}`),
}, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = 'arraybuffer';
  socket.onmessage = (e) => socket.send(e.data);
  socket.onerror = () => {};
  return response;
});
