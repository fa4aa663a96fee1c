/**
 * Ambient declarations of the Bun global the tests use, for tsc. The adapter's own sources declare no global: they
 * take Bun's types from src/bun-api.ts (the same shapes, reused here) and the object from bunRuntime().
 */
declare namespace Bun {
  type TLSOptions = import('../src/bun-api.js').TLSOptions;
  type Socket<Data = unknown> = import('../src/bun-api.js').Socket<Data>;
  type SocketHandler<Data = unknown> = import('../src/bun-api.js').SocketHandler<Data>;
  type TCPSocketListener<Data = unknown> = import('../src/bun-api.js').TCPSocketListener<Data>;
  function listen<Data = unknown>(options: import('../src/bun-api.js').TCPSocketListenOptions<Data>): TCPSocketListener<Data>;
  function connect<Data = unknown>(options: import('../src/bun-api.js').TCPSocketConnectOptions<Data>): Promise<Socket<Data>>;
  const env: Record<string, string | undefined>;

  interface ServerWebSocket<T = unknown> {
    readonly data: T;
    readonly protocol?: string;
    send(data: string | Uint8Array): number;
    close(code?: number, reason?: string): void;
    ping(data?: string | Uint8Array): number;
    binaryType?: 'nodebuffer' | 'arraybuffer' | 'uint8array';
  }
  interface Server {
    readonly port: number;
    upgrade(req: Request, options?: { headers?: Record<string, string>; data?: unknown }): boolean;
    stop(closeActiveConnections?: boolean): Promise<void> | void;
  }
  function serve(options: {
    hostname?: string;
    port?: number;
    tls?: { cert: string; key: string };
    fetch(req: Request, server: Server): Response | undefined | Promise<Response | undefined>;
    websocket: {
      perMessageDeflate?: boolean;
      maxPayloadLength?: number;
      idleTimeout?: number;
      open?(ws: ServerWebSocket): void;
      message(ws: ServerWebSocket, message: string | Uint8Array): void;
      close?(ws: ServerWebSocket, code: number, reason: string): void;
      pong?(ws: ServerWebSocket, data: Uint8Array): void;
    };
  }): Server;
  function spawn(cmd: string[], options?: { cwd?: string; stdout?: 'pipe' | 'ignore' | 'inherit'; stderr?: 'pipe' | 'ignore' | 'inherit' }): {
    exited: Promise<number>;
    stderr: ReadableStream<Uint8Array> | null;
  };
  function file(path: string): { text(): Promise<string> };
  function write(path: string, data: string): Promise<number>;
}
