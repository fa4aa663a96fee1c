// The main job until the live WebSocket demo exists: a server-side opening handshake, end to end, on the
// request a browser sent to a public MQTT-over-WebSocket broker. Prints the request and our 101 response.
export async function main() {
  const { runHandshakeDemo } = await import('../../examples/handshake/demo.mjs');
  runHandshakeDemo();
}
