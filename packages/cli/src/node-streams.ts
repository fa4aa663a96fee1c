/**
 * Node stream ⇄ WHATWG stream bridges for stdio and child processes, with backpressure kept both ways: the
 * readable pauses its source once its byte queue is full and resumes on pull; the writable's write() waits for
 * 'drain' when Node's buffer is full. (`Readable.toWeb` is avoided: its queue counts chunks, not bytes, and its
 * types are Node's own stream/web classes rather than the ones the session takes.)
 */
import type { Readable, Writable } from 'node:stream';

const HWM = 64 * 1024;

/** Plain Uint8Array view of a Buffer (no copy), so that consumers never see Buffer's aliasing slice(). */
function view(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function readableFromNode(src: Readable): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let done = false;
      src.on('data', (chunk: Buffer | string) => {
        if (done) return;
        controller.enqueue(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : view(chunk));
        if ((controller.desiredSize ?? 0) <= 0) src.pause();
      });
      src.once('end', () => { if (!done) { done = true; controller.close(); } });
      src.once('error', (e) => { if (!done) { done = true; controller.error(e); } });
      // 'data' switched the stream to flowing; it flows while pull() asks for more.
    },
    pull() {
      src.resume();
    },
    cancel() {
      src.destroy();
    },
  }, { highWaterMark: HWM, size: (c: Uint8Array) => c.byteLength });
}

export interface WritableFromNodeOptions {
  /** End the Node stream when the WHATWG one closes. False for process.stdout: it is flushed, not ended. */
  end?: boolean;
}

export function writableFromNode(dst: Writable, opts: WritableFromNodeOptions = {}): WritableStream<Uint8Array> {
  const end = opts.end ?? true;
  let failure: Error | null = null;
  dst.on('error', (e) => { failure ??= e; });
  const waitFor = (event: 'drain' | 'finish'): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const ok = (): void => { cleanup(); resolve(); };
      const bad = (e?: Error): void => { cleanup(); reject(e ?? failure ?? new Error('stream closed')); };
      const cleanup = (): void => { dst.off(event, ok); dst.off('error', bad); dst.off('close', onClose); };
      // A destroyed stream (EPIPE: the reader went away) emits 'close' and never 'drain'.
      const onClose = (): void => (event === 'finish' && dst.writableFinished ? ok() : bad());
      dst.once(event, ok);
      dst.once('error', bad);
      dst.once('close', onClose);
    });
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      if (failure) throw failure;
      if (dst.destroyed) throw new Error('stream closed');
      if (!dst.write(chunk)) await waitFor('drain');
    },
    async close() {
      if (failure) throw failure;
      if (end) {
        if (dst.writableFinished) return;
        const finished = waitFor('finish');
        dst.end();
        await finished;
      } else if (dst.writableLength > 0) {
        await waitFor('drain');
      }
    },
    abort() {
      if (end) dst.destroy();
    },
  });
}
