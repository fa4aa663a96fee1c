/**
 * TLS inside TLS for Deno (wss: through an https: proxy). Deno.startTls takes a TCP connection only, so the inner
 * TLS runs on one end of a loopback TCP pair whose other end is relayed, byte for byte, to the outer TLS connection
 * (the tunnel through the proxy). Costs two loopback sockets and a copy each way; used for that one route only.
 *
 * The pair is made with a listener on 127.0.0.1, port 0, closed as soon as our own connection is accepted: an
 * accepted connection whose peer is not our socket (its remote port differs from our local port) is closed and
 * never relayed, so no other local process can slip into the tunnel.
 */

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch {
    /* already closed */
  }
}

/** Copies `from` to `to` until EOF (then half-closes `to`) or an error (then `onError`). */
async function pump(from: Deno.Conn, to: Deno.Conn, onError: () => void): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
    await to.closeWrite().catch(() => {});
  } catch {
    onError();
  }
}

/** A TCP connection on loopback whose bytes travel over `outer`; closing either side tears both down. */
export async function loopbackOver(outer: Deno.Conn): Promise<Deno.TcpConn> {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  let inner: Deno.TcpConn | null = null;
  let relay: Deno.TcpConn | null = null;
  try {
    const connecting = Deno.connect({ hostname: '127.0.0.1', port: listener.addr.port, transport: 'tcp' });
    for (let tries = 0; relay === null; tries++) {
      const accepted = await listener.accept();
      inner ??= await connecting;
      if (accepted.remoteAddr.port === inner.localAddr.port) relay = accepted;
      else {
        closeQuietly(accepted);
        if (tries > 8) throw new Error('loopback relay: could not accept our own connection');
      }
    }
  } catch (e) {
    if (inner) closeQuietly(inner);
    throw e;
  } finally {
    listener.close();
  }
  const own: Deno.TcpConn = inner as Deno.TcpConn;
  const r: Deno.TcpConn = relay;
  own.setNoDelay(true);
  r.setNoDelay(true);
  let torn = false;
  const tearDown = (): void => {
    if (torn) return;
    torn = true;
    closeQuietly(r);
    closeQuietly(outer);
  };
  // Both directions done (clean half-closes) or either failed: release both sockets.
  void Promise.all([pump(r, outer, tearDown), pump(outer, r, tearDown)]).then(tearDown);
  return own;
}
