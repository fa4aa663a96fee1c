/** Ambient declarations of the Deno APIs the tests use (beyond those in src/types.d.ts). */
declare namespace Deno {
  class Command {
    constructor(cmd: string, options: { args?: string[]; cwd?: string; stdout?: 'piped' | 'null' | 'inherit'; stderr?: 'piped' | 'null' | 'inherit' });
    output(): Promise<{ success: boolean; code: number; stdout: Uint8Array; stderr: Uint8Array }>;
  }
  function makeTempDir(options?: { prefix?: string }): Promise<string>;
  /** The process's memory (bytes); rss is the resident set size. */
  function memoryUsage(): { rss: number; heapTotal: number; heapUsed: number; external: number };
  function writeTextFile(path: string, data: string): Promise<void>;
  function readTextFile(path: string): Promise<string>;
  function remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  function exit(code?: number): never;

  interface HttpServer {
    readonly finished: Promise<void>;
    shutdown(): Promise<void>;
  }
  function serve(
    options: {
      hostname?: string;
      port?: number;
      signal?: AbortSignal;
      onListen?: (addr: { hostname: string; port: number }) => void;
      cert?: string;
      key?: string;
    },
    handler: (req: Request, info: { remoteAddr: { hostname: string; port: number; transport: string } }) => Response | Promise<Response>,
  ): HttpServer;
  function upgradeWebSocket(req: Request, options?: { protocol?: string; idleTimeout?: number }): { socket: WebSocket; response: Response };
}
