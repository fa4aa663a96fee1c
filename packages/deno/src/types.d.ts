/**
 * Ambient declarations of just the Deno APIs this adapter uses (checked against Deno 2.9's `deno types`).
 * Deliberately minimal: pulling in Deno's full lib would clash with the DOM and Node typings the rest of the
 * workspace compiles against. Nothing here appears in the package's public signatures.
 */
declare namespace Deno {
  interface NetAddr {
    transport: 'tcp' | 'udp';
    hostname: string;
    port: number;
  }

  /** The subset of `Deno.Conn` / `Deno.TcpConn` / `Deno.TlsConn` the binding needs. */
  interface Conn {
    read(p: Uint8Array): Promise<number | null>;
    write(p: Uint8Array): Promise<number>;
    closeWrite(): Promise<void>;
    close(): void;
    readonly localAddr: NetAddr;
    readonly remoteAddr: NetAddr;
    setNoDelay?(noDelay?: boolean): void;
    handshake?(): Promise<{ alpnProtocol: string | null }>;
  }

  interface Listener {
    accept(): Promise<Conn>;
    close(): void;
    readonly addr: NetAddr;
  }

  interface ListenOptions {
    port?: number;
    hostname?: string;
    transport?: 'tcp';
  }

  interface ListenTlsOptions extends ListenOptions {
    cert: string;
    key: string;
    alpnProtocols?: string[];
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
    cert?: string;
    key?: string;
  }

  function listen(options: ListenOptions): Listener;
  function listenTls(options: ListenTlsOptions): Listener;
  function connect(options: ConnectOptions): Promise<Conn>;
  function connectTls(options: ConnectTlsOptions): Promise<Conn>;

  namespace errors {
    class BadResource extends Error {}
    class Interrupted extends Error {}
    class NotConnected extends Error {}
    class BrokenPipe extends Error {}
    class ConnectionReset extends Error {}
  }
}
