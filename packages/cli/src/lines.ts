/**
 * Line framing between byte streams (stdin, a child's stdout) and text messages. Streaming: only the current,
 * incomplete line is held, and it is bounded, so `cat /dev/zero | streamsocket connect` fails with a clear error
 * instead of growing memory until the process dies.
 */

/** The default bound on one line, in UTF-16 units: the session's default maximum message size (16 MiB). */
export const DEFAULT_MAX_LINE = 16 * 1024 * 1024;

export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
  constructor(max: number) {
    super(`a line is longer than ${max} characters`);
  }
}

/**
 * Splits decoded text into lines without their terminator (`\n` or `\r\n`). A last line without a terminator is
 * emitted when the input ends, unless it is empty.
 */
export class LineSplitterStream extends TransformStream<string, string> {
  constructor(maxLine = DEFAULT_MAX_LINE) {
    let partial = '';
    super({
      transform(chunk, controller) {
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf('\n', start);
          if (nl < 0) break;
          let line = partial + chunk.slice(start, nl);
          partial = '';
          if (line.endsWith('\r')) line = line.slice(0, -1);
          controller.enqueue(line);
          start = nl + 1;
        }
        partial += chunk.slice(start);
        if (partial.length > maxLine) throw new LineTooLongError(maxLine);
      },
      flush(controller) {
        if (partial.endsWith('\r')) partial = partial.slice(0, -1);
        if (partial !== '') controller.enqueue(partial);
        partial = '';
      },
    });
  }
}

const encoder = new TextEncoder();
const NEWLINE = encoder.encode('\n');

/**
 * Received messages as bytes for a line-oriented consumer (stdout, a child's stdin): text gets a newline appended,
 * binary payloads are passed as they are, followed by a newline (so that one message stays one "line" for tools
 * like `grep`, even though the bytes themselves may hold newlines).
 */
export function messageToLineBytes(data: string | Uint8Array): Uint8Array[] {
  return typeof data === 'string' ? [encoder.encode(data + '\n')] : [data, NEWLINE];
}

/** Received messages as raw bytes (binary mode): text as its UTF-8 encoding, nothing added. */
export function messageToRawBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/**
 * UTF-8 bytes → text, streaming (a character split across chunks is kept for the next one). Typed as a plain
 * TransformStream: lib.dom types TextDecoderStream's writable as BufferSource, which Uint8Array pipes reject.
 */
export function utf8Decoder(): TransformStream<Uint8Array, string> {
  return new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
}
