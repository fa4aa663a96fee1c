/**
 * Ambient declarations of just the Bun APIs this adapter uses (checked against Bun 1.4.5 at runtime: the
 * methods exist on the socket prototype and behave as described in packages/bun/README.md). Kept minimal on
 * purpose: bun-types would redeclare globals the DOM and Node typings of the workspace already declare.
 * Nothing here appears in the package's public signatures.
 */
declare namespace Bun {
  interface TLSOptions {
    cert?: string | string[];
    key?: string | string[];
    ca?: string | string[];
    passphrase?: string;
    serverName?: string;
    rejectUnauthorized?: boolean;
    requestCert?: boolean;
  }

  interface Socket<Data = unknown> {
    data: Data;
    readonly readyState: number | string;
    readonly remoteAddress: string;
    readonly remotePort?: number;
    readonly localPort: number;
    /** Bytes accepted (<= data.byteLength), or -1 when the socket is closed. */
    write(data: Uint8Array | string, byteOffset?: number, byteLength?: number): number;
    /** FIN; with halfClose true stops reading instead (Bun >= 1.4 semantics, see README). */
    shutdown(halfClose?: boolean): void;
    end(): void;
    terminate(): void;
    pause(): void;
    resume(): void;
    setNoDelay?(noDelay?: boolean): boolean;
  }

  interface SocketHandler<Data = unknown> {
    binaryType?: 'uint8array' | 'buffer' | 'arraybuffer';
    open?(socket: Socket<Data>): void | Promise<void>;
    data?(socket: Socket<Data>, data: Uint8Array): void | Promise<void>;
    drain?(socket: Socket<Data>): void | Promise<void>;
    end?(socket: Socket<Data>): void | Promise<void>;
    close?(socket: Socket<Data>, error?: Error): void | Promise<void>;
    error?(socket: Socket<Data>, error: Error): void | Promise<void>;
    connectError?(socket: Socket<Data>, error: Error): void | Promise<void>;
    handshake?(socket: Socket<Data>, success: boolean, authorizationError: Error | null): void;
    timeout?(socket: Socket<Data>): void | Promise<void>;
  }

  interface TCPSocketListener<Data = unknown> {
    readonly port: number;
    readonly hostname: string;
    stop(closeActiveConnections?: boolean): void;
    ref(): void;
    unref(): void;
  }

  function listen<Data = unknown>(options: {
    hostname: string;
    port: number;
    socket: SocketHandler<Data>;
    tls?: TLSOptions;
    data?: Data;
    allowHalfOpen?: boolean;
  }): TCPSocketListener<Data>;

  function connect<Data = unknown>(options: {
    hostname: string;
    port: number;
    socket: SocketHandler<Data>;
    tls?: boolean | TLSOptions;
    data?: Data;
    allowHalfOpen?: boolean;
  }): Promise<Socket<Data>>;
}
