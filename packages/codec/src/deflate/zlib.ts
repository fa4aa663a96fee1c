/**
 * Access to the host's zlib (`node:zlib`, which Node, Deno and Bun provide) without a static import, so that the
 * codec still loads unchanged where it does not exist (browsers, workerd without nodejs_compat) and no bundler ever
 * has to resolve `node:zlib`:
 *
 * 1. Synchronously through `process.getBuiltinModule` (Node >= 20.16, Deno 2, Bun, workerd with nodejs_compat).
 *    This is what `deflateAvailable` reports at import time, with no top-level await (which would break
 *    `require(esm)` and some bundlers).
 * 2. Where that is missing, `loadZlib()` tries a dynamic `import()` whose specifier is not a string literal, so
 *    bundlers leave it alone (esbuild does not even try to resolve it); it updates the live binding.
 *
 * Only the small structural subset of the API we use is typed here: the package's sources are compiled without
 * `@types/node`, and the subset is what Deno's and Bun's implementations must provide.
 */

/** The options we pass to zlib constructors and one-shot functions. */
export interface ZlibOptions {
  windowBits?: number;
  level?: number;
  memLevel?: number;
  chunkSize?: number;
  flush?: number;
  finishFlush?: number;
  maxOutputLength?: number;
}

/** The part of a zlib Transform stream we use: byte in, 'data' out, 'error', destroy. */
export interface ZlibStream {
  write(chunk: Uint8Array, cb: (err?: Error | null) => void): boolean;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  destroy(): unknown;
  close?(): unknown;
  /** True once destroyed (by an error or by us). */
  readonly destroyed?: boolean;
  /** The error that destroyed the stream, if any (Node >= 18). */
  readonly errored?: Error | null;
  /** Input bytes zlib has consumed so far (Node >= 10, Bun); used to notice a finished DEFLATE stream. */
  readonly bytesWritten?: number;
}

export interface ZlibModule {
  createInflateRaw(o: ZlibOptions): ZlibStream;
  createDeflateRaw(o: ZlibOptions): ZlibStream;
  inflateRawSync(data: Uint8Array, o: ZlibOptions): Uint8Array;
  deflateRawSync(data: Uint8Array, o: ZlibOptions): Uint8Array;
  constants: { Z_SYNC_FLUSH: number };
}

type GetBuiltin = (id: string) => unknown;

function isZlib(m: unknown): m is ZlibModule {
  const z = m as Partial<ZlibModule> | null | undefined;
  return !!z && typeof z.createInflateRaw === 'function' && typeof z.createDeflateRaw === 'function' &&
    typeof z.inflateRawSync === 'function' && typeof z.deflateRawSync === 'function' &&
    typeof z.constants?.Z_SYNC_FLUSH === 'number';
}

function loadSync(): ZlibModule | null {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
    const m = typeof proc?.getBuiltinModule === 'function' ? proc.getBuiltinModule('node:zlib') : null;
    return isZlib(m) ? m : null;
  } catch {
    return null;
  }
}

let zlib: ZlibModule | null = loadSync();

/**
 * True when permessage-deflate can be used in this runtime. When false, `permessageDeflate().offer()` returns []
 * and `negotiate()` declines, so the extension is simply never agreed on. A live binding: `loadZlib()` may flip it.
 */
export let deflateAvailable: boolean = zlib !== null;

/** The zlib module, or null. */
export function getZlib(): ZlibModule | null {
  return zlib;
}

/**
 * For runtimes without `process.getBuiltinModule`: tries `import('node:zlib')` once. Resolves to
 * `deflateAvailable`. Never rejects.
 */
export async function loadZlib(): Promise<boolean> {
  if (zlib) return true;
  // Not a literal, on purpose: bundlers must neither resolve nor inline it.
  const specifier = ['node', 'zlib'].join(':');
  try {
    const m = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as { default?: unknown };
    const z = isZlib(m) ? m : isZlib(m.default) ? m.default : null;
    if (z) { zlib = z; deflateAvailable = true; }
  } catch {
    // No zlib here: the extension stays unavailable.
  }
  return deflateAvailable;
}

/** Tests only: pretend zlib is missing (or restore it), to exercise the browser path in any runtime. */
export function setZlibForTesting(m: ZlibModule | null): void {
  zlib = m;
  deflateAvailable = m !== null;
}
