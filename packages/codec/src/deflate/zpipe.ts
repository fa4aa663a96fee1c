/**
 * A promise-per-write wrapper around one zlib Transform stream. The stream is created with `flush: Z_SYNC_FLUSH`,
 * so every write is one zlib call (one threadpool round trip) that ends byte-aligned; its callback fires after all
 * output of that write was emitted as 'data'. The caller's sink sees each output chunk (at most `chunkSize`
 * bytes) as it is produced, so it can count and abort: aborting destroys the stream, which stops zlib before
 * its next output chunk (this is what bounds a decompression bomb).
 */
import type { ZlibStream } from './zlib.js';

export class ZPipe {
  private sink: ((chunk: Uint8Array) => void) | null = null;
  private reject: ((err: unknown) => void) | null = null;
  /** Set once the stream failed, was aborted or closed: it cannot be used again (its context is gone). */
  failure: unknown = null;
  private written = 0;

  constructor(private readonly stream: ZlibStream) {
    stream.on('data', (chunk) => { this.sink?.(chunk); });
    stream.on('error', (err) => { this.fail(err); });
  }

  /** Feeds `input`; resolves once zlib has consumed it and emitted everything it produced. */
  write(input: Uint8Array, sink: (chunk: Uint8Array) => void): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.written += input.length;
    return new Promise<void>((resolve, reject) => {
      this.sink = sink;
      this.reject = reject;
      this.stream.write(input, (err) => {
        if (this.reject !== reject) return; // already settled through fail()/abort()
        this.sink = null;
        this.reject = null;
        // Deno's node:zlib reports a data error by destroying the stream and calling this callback *without* the
        // error ('error' follows on the next tick), so a destroyed stream counts as failed here too.
        const failed = err ?? (this.stream.destroyed ? this.stream.errored ?? new Error('zlib stream destroyed') : null);
        if (failed) { this.failure ??= failed; reject(failed); } else resolve();
      });
    });
  }

  /**
   * True when zlib stopped consuming input because the DEFLATE stream ended (a block with BFINAL set, RFC 7692
   * 7.2.3.4): everything written after that point was ignored, and a new stream is needed for what follows.
   * False where the runtime does not report `bytesWritten`.
   */
  get ended(): boolean {
    const consumed = this.stream.bytesWritten;
    return typeof consumed === 'number' && consumed < this.written;
  }

  /** Stops the current write with `err` and releases zlib's memory. */
  abort(err: unknown): void {
    this.fail(err);
    this.stream.destroy();
  }

  /** Releases zlib's memory; a pending write and later ones reject with `err`. */
  close(err: unknown): void {
    this.abort(err);
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    const reject = this.reject;
    this.sink = null;
    this.reject = null;
    reject?.(err);
  }
}
