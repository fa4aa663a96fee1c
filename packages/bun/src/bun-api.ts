/**
 * The part of Bun's API this adapter uses (subsets of Bun 1.4's own declarations, same names and shapes; checked
 * against Bun 1.4.5 at runtime: the methods exist on the socket prototype and behave as described in the README).
 * Declared in a module rather than as a global `Bun` namespace: the workspace's tsc compiles against the DOM and
 * Node typings, which bun-types would redeclare, and a JSR package may not declare globals (Deno type-checks this
 * package for `deno publish`, without any Bun lib). Sources import the types as `import type * as Bun` and reach
 * the runtime object through bunRuntime().
 */

export interface TLSOptions {
  cert?: string | string[];
  key?: string | string[];
  ca?: string | string[];
  passphrase?: string;
  serverName?: string;
  rejectUnauthorized?: boolean;
  requestCert?: boolean;
}

export interface Socket<Data = unknown> {
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

export interface SocketHandler<Data = unknown> {
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

export interface TCPSocketListener<Data = unknown> {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): void;
  ref(): void;
  unref(): void;
}

export interface TCPSocketListenOptions<Data = unknown> {
  hostname: string;
  port: number;
  socket: SocketHandler<Data>;
  tls?: TLSOptions;
  data?: Data;
  allowHalfOpen?: boolean;
}

export interface TCPSocketConnectOptions<Data = unknown> {
  hostname: string;
  port: number;
  socket: SocketHandler<Data>;
  tls?: boolean | TLSOptions;
  data?: Data;
  allowHalfOpen?: boolean;
}

/** The members of Bun's global object the adapter calls. */
export interface BunRuntime {
  listen<Data = unknown>(options: TCPSocketListenOptions<Data>): TCPSocketListener<Data>;
  connect<Data = unknown>(options: TCPSocketConnectOptions<Data>): Promise<Socket<Data>>;
  /** The process environment (the same object as process.env in Bun). */
  readonly env: Record<string, string | undefined>;
}

/** Bun's global object; throws a TypeError naming the runtime when this is not Bun. */
export function bunRuntime(): BunRuntime {
  // Bun's global is not in the DOM, Node or Deno libs: this declares it, optional, for the one read.
  const bun = (globalThis as typeof globalThis & { Bun?: BunRuntime }).Bun;
  if (bun === undefined) throw new TypeError('@streamsocket/bun runs in Bun only: globalThis.Bun is missing (in Node or Deno, use @streamsocket/node or @streamsocket/deno, or the streamsocket package, which picks the adapter)');
  return bun;
}
