/**
 * Ambient declarations of just the Deno APIs this adapter uses, for `tsc` (the workspace's type check, which
 * compiles against the DOM and Node typings: Deno's full lib would clash with them). Each declaration is a subset
 * of Deno 2.9's own (`deno types`), with the same names and shapes, so that code which checks here also checks
 * under `deno check` and `deno publish`, which ignore this file and use Deno's lib (deno.json: `deno.window`).
 */
declare namespace Deno {
  interface NetAddr {
    transport: 'tcp' | 'udp';
    hostname: string;
    port: number;
  }

  /** The part of `Deno.Conn` the binding needs; its address type is a parameter as in Deno's lib. */
  interface Conn<A extends NetAddr = NetAddr> {
    read(p: Uint8Array): Promise<number | null>;
    write(p: Uint8Array): Promise<number>;
    closeWrite(): Promise<void>;
    close(): void;
    readonly localAddr: A;
    readonly remoteAddr: A;
  }

  /** What Deno.connect and a TCP listener give: a TCP connection (Nagle can be turned off). */
  interface TcpConn extends Conn<NetAddr> {
    setNoDelay(noDelay?: boolean): void;
  }

  interface TlsHandshakeInfo {
    alpnProtocol: string | null;
  }

  /** What Deno.connectTls, Deno.startTls and a TLS listener give (no setNoDelay). */
  interface TlsConn extends Conn<NetAddr> {
    handshake(): Promise<TlsHandshakeInfo>;
  }

  interface Listener<T extends Conn = Conn, A extends NetAddr = NetAddr> {
    accept(): Promise<T>;
    close(): void;
    readonly addr: A;
  }
  type TcpListener = Listener<TcpConn, NetAddr>;
  type TlsListener = Listener<TlsConn, NetAddr>;

  interface TcpListenOptions {
    port?: number;
    hostname?: string;
  }

  interface ListenTlsOptions extends TcpListenOptions {
    transport?: 'tcp';
    alpnProtocols?: string[];
  }

  /** A certificate chain and its private key, PEM (a TLS server's, or a client's for mutual TLS). */
  interface TlsCertifiedKeyPem {
    keyFormat?: 'pem';
    key: string;
    cert: string;
  }

  interface ConnectOptions {
    port: number;
    hostname?: string;
    transport?: 'tcp';
    signal?: AbortSignal;
  }

  interface ConnectTlsOptions {
    port: number;
    hostname?: string;
    caCerts?: string[];
    alpnProtocols?: string[];
    unsafelyDisableHostnameVerification?: boolean;
  }

  function listen(options: TcpListenOptions & { transport?: 'tcp' }): TcpListener;
  function listenTls(options: ListenTlsOptions & TlsCertifiedKeyPem): TlsListener;
  function connect(options: ConnectOptions): Promise<TcpConn>;
  function connectTls(options: ConnectTlsOptions | (ConnectTlsOptions & TlsCertifiedKeyPem)): Promise<TlsConn>;

  namespace errors {
    class BadResource extends Error {}
    class Interrupted extends Error {}
    class NotConnected extends Error {}
    class BrokenPipe extends Error {}
    class ConnectionReset extends Error {}
  }
}
