// Small TransformStreams that compose with WebSocket messages. Each holds at most one partial line or one record:
// a pipeline built from them runs in constant memory whatever the input size, and backpressure flows through.

/** Text chunks → lines (without '\n'; a '\r' before it is dropped). Empty lines are skipped. */
export function lines() {
  let partial = '';
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      for (const p of parts) {
        const line = p.endsWith('\r') ? p.slice(0, -1) : p;
        if (line !== '') controller.enqueue(line);
      }
    },
    flush(controller) {
      if (partial !== '') controller.enqueue(partial);
    },
  });
}

/**
 * The messages of `readable` up to the first empty text message, the end-of-batch marker of this example's
 * protocol. (A WebSocket has no half-close: once a peer has sent its close frame the other may send nothing more,
 * so the client marks the end of its input in-band and the server answers everything before closing.)
 *
 * A reader rather than a TransformStream that terminates: terminating a transform cancels the stream piped into
 * it, and cancelling a WebSocket's readable closes the WebSocket, which would cut the answer short. Here the
 * session's readable is merely released, still open.
 */
export function untilEndMarker(readable) {
  const reader = readable.getReader();
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done || value === '') {
        reader.releaseLock();
        controller.close();
      } else {
        controller.enqueue(value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** JSON text → records, numbered; a line that is not JSON becomes an error record instead of ending the stream. */
export function parseRecords() {
  let n = 0;
  return new TransformStream({
    transform(line, controller) {
      n++;
      try {
        const value = JSON.parse(line);
        controller.enqueue({ n, ok: true, value });
      } catch (e) {
        controller.enqueue({ n, ok: false, error: e.message });
      }
    },
  });
}

/** Records → JSON lines (text, '\n'-terminated). */
export function toJsonLines() {
  return new TransformStream({
    transform(record, controller) {
      controller.enqueue(JSON.stringify(record) + '\n');
    },
  });
}
