// Raw TCP echo on Deno (Deno.listen): the ceiling for any WebSocket server on Deno. A read/write loop over one
// buffer per connection; write() is awaited until all bytes are taken, which is the backpressure.
const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
console.log(`PORT ${listener.addr.port}`);
for await (const conn of listener) {
  conn.setNoDelay(true);
  (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await conn.write(buf.subarray(off, n));
      }
    } catch { /* peer reset: the cell is over */ }
    try { conn.close(); } catch { /* already closed */ }
  })();
}
