/**
 * Shared by the binding's tests (not a test file): two SocketBindings on the two ends of one real loopback TCP
 * (or TLS) connection, and a byte concatenation.
 */
import { SocketBinding, socketHandlers, type Channel, type SocketChannelOptions } from '../src/index.js';
import type { TestCerts } from './sides.js';

export interface BindingPair {
  /** The client side's channel. */
  a: Channel;
  /** The server side's channel. */
  b: Channel;
  /** The client's Bun socket (for tests that poke it directly). */
  aSock: Bun.Socket<SocketBinding>;
}

/** Connects a client binding to a server binding over 127.0.0.1 (TLS to localhost with `tls`); the listener is stopped. */
export async function pair(aOpts: SocketChannelOptions = {}, bOpts: SocketChannelOptions = {}, tls?: TestCerts): Promise<BindingPair> {
  let gotB!: (b: SocketBinding) => void;
  const bP = new Promise<SocketBinding>((r) => (gotB = r));
  const l = Bun.listen<SocketBinding>({
    hostname: '127.0.0.1',
    port: 0,
    allowHalfOpen: true,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    socket: {
      ...socketHandlers,
      open(s) {
        const b = new SocketBinding(bOpts);
        b.attach(s);
        gotB(b);
      },
    },
  });
  const a = new SocketBinding(aOpts);
  let verified!: () => void;
  const handshake = new Promise<void>((r) => (verified = r));
  const aSock = await Bun.connect<SocketBinding>({
    hostname: tls ? 'localhost' : '127.0.0.1',
    port: l.port,
    allowHalfOpen: true,
    data: a,
    ...(tls ? { tls: { ca: tls.ca } } : {}),
    socket: { ...socketHandlers, open: (s) => a.attach(s), handshake: () => verified() },
  });
  if (tls) await handshake;
  a.attach(aSock);
  const b = await bP;
  l.stop(false);
  return { a: a.channel, b: b.channel, aSock };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((k, p) => k + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
