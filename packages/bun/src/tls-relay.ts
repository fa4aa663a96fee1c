/**
 * TLS inside TLS for Bun (wss: through an https: proxy). Bun's upgradeTLS() on a socket that is itself TLS never
 * completes its handshake (Bun 1.4.5), so the inner TLS runs on one end of a loopback TCP pair whose other end is
 * relayed, byte for byte, to the outer TLS socket (the tunnel through the proxy). Costs two loopback sockets and a
 * copy each way; used for that one route only.
 *
 * The pair is made with a listener on 127.0.0.1, port 0, stopped as soon as our own connection is accepted: an
 * accepted socket whose peer is not ours (its remote port differs from our local port) is closed and never
 * relayed, so no other local process can slip into the tunnel. Backpressure: when one side cannot take a chunk
 * whole, the rest is queued and the other side paused until 'drain'.
 */
import type * as Bun from './bun-api.js';
import { bunRuntime } from './bun-api.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySocket = Bun.Socket<any>;

/** One direction's sink: writes to `to`, queueing what it does not take and pausing `from` meanwhile. */
class RelayEnd {
  private queue: Uint8Array[] = [];
  peer: RelayEnd | null = null;
  closed = false;
  constructor(
    readonly socket: AnySocket,
    private readonly tearDown: () => void,
  ) {}
  /** Bytes that arrived on this end's socket: to the peer's socket. */
  onData(chunk: Uint8Array): void {
    this.peer?.send(chunk);
  }
  send(chunk: Uint8Array): void {
    if (this.closed) return;
    if (this.queue.length) {
      this.queue.push(chunk.slice());
      return;
    }
    const n = this.socket.write(chunk);
    if (n < 0) return this.tearDown();
    if (n < chunk.byteLength) {
      this.queue.push(chunk.slice(n));
      this.peer?.socket.pause();
    }
  }
  onDrain(): void {
    while (this.queue.length) {
      const c = this.queue[0]!;
      const n = this.socket.write(c);
      if (n < 0) return this.tearDown();
      if (n < c.byteLength) {
        this.queue[0] = c.subarray(n);
        return;
      }
      this.queue.shift();
    }
    this.peer?.socket.resume();
    if (this.peerEnded) this.socket.shutdown();
  }
  private peerEnded = false;
  /** The peer's input ended: half-close ours once what is queued is out. */
  peerEof(): void {
    this.peerEnded = true;
    if (!this.queue.length) this.socket.shutdown();
  }
  onEnd(): void {
    this.peer?.peerEof();
  }
  onError(): void {
    this.tearDown();
  }
  onClose(): void {
    this.closed = true;
    this.tearDown();
  }
}

/** A plain TCP socket on loopback (its `data` a fresh `phase`) whose bytes travel over `outer`. */
export function loopbackOver<P>(outer: AnySocket, phase: P, handlers: Bun.SocketHandler<P>): Promise<Bun.Socket<P>> {
  return new Promise((resolve, reject) => {
    let inner: Bun.Socket<P> | null = null;
    const pending: AnySocket[] = [];
    let done = false;
    let a: RelayEnd | null = null;
    let b: RelayEnd | null = null;
    const tearDown = (): void => {
      for (const e of [a, b]) {
        if (e && !e.closed) {
          e.closed = true;
          e.socket.terminate();
        }
      }
    };
    const fail = (e: unknown): void => {
      if (done) return;
      done = true;
      listener.stop(true);
      inner?.terminate();
      reject(e);
    };
    const match = (): void => {
      if (done || !inner) return;
      const ours = pending.find((s) => s.remotePort === inner!.localPort);
      for (const s of pending) if (s !== ours) s.terminate();
      pending.length = 0;
      if (!ours) return;
      done = true;
      listener.stop(false);
      a = new RelayEnd(ours, tearDown);
      b = new RelayEnd(outer, tearDown);
      a.peer = b;
      b.peer = a;
      ours.data = a;
      outer.data = b;
      resolve(inner);
    };
    const relayHandlers: Bun.SocketHandler<RelayEnd | null> = {
      binaryType: 'uint8array',
      open(s) {
        pending.push(s as AnySocket);
        match();
      },
      data: (s, c) => s.data?.onData(c),
      drain: (s) => s.data?.onDrain(),
      end: (s) => s.data?.onEnd(),
      error: (s) => s.data?.onError(),
      close: (s) => s.data?.onClose(),
    };
    const listener = bunRuntime().listen<RelayEnd | null>({ hostname: '127.0.0.1', port: 0, allowHalfOpen: true, data: null, socket: relayHandlers });
    bunRuntime().connect<P>({
      hostname: '127.0.0.1',
      port: listener.port,
      allowHalfOpen: true,
      data: phase,
      socket: {
        ...handlers,
        open(s) {
          inner = s;
          s.setNoDelay?.(true);
          match();
        },
        connectError(_s, e) {
          fail(e);
        },
      },
    }).catch(fail);
  });
}
