/**
 * Incremental reader for an HTTP/1.1 head. Bytes are fed as they arrive; the
 * reader scans each byte once with a tiny state machine that
 *  - finds the CRLFCRLF terminator across chunk boundaries,
 *  - rejects bare CR and bare LF the moment they appear (they are how
 *    request-smuggling payloads make two parsers disagree on line boundaries),
 *  - enforces the head-size and header-count limits at the byte that crosses
 *    them, so at most `maxHeadSize` bytes are ever buffered.
 * Once the head is complete it is parsed (http11.ts) and returned together with
 * the bytes that followed it in the same chunk (the first WebSocket frames, say).
 */
import { HandshakeError } from './errors.js';
import { parseHeadBytes, type HeadKind, type RequestHead, type ResponseHead } from './http11.js';

export interface HeadLimits {
  /** Maximum bytes of the head, start line to the final CRLFCRLF inclusive. Default 16384. */
  maxHeadSize?: number;
  /** Maximum number of header field lines. Default 100. */
  maxHeaderCount?: number;
}

export const DEFAULT_MAX_HEAD_SIZE = 16384;
export const DEFAULT_MAX_HEADER_COUNT = 100;

export type HeadOf<K extends HeadKind> = K extends 'request' ? RequestHead : ResponseHead;
export interface HeadResult<K extends HeadKind> {
  head: HeadOf<K>;
  /** Bytes after the head; a view into the last chunk pushed (not a copy). */
  rest: Uint8Array;
}

const CR = 0x0d;
const LF = 0x0a;

function limit(value: number | undefined, dflt: number, name: string): number {
  if (value === undefined) return dflt;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

export class HeadReader<K extends HeadKind> {
  readonly kind: K;
  private readonly maxHeadSize: number;
  private readonly maxHeaderCount: number;
  /** Copies of earlier chunks (the caller may reuse its buffers). */
  private chunks: Uint8Array[] = [];
  private total = 0;
  private lineLen = 0;
  private lines = 0;
  private sawCR = false;
  private done = false;
  private error: HandshakeError | null = null;

  constructor(kind: K, limits: HeadLimits = {}) {
    this.kind = kind;
    this.maxHeadSize = limit(limits.maxHeadSize, DEFAULT_MAX_HEAD_SIZE, 'maxHeadSize');
    this.maxHeaderCount = limit(limits.maxHeaderCount, DEFAULT_MAX_HEADER_COUNT, 'maxHeaderCount');
  }

  /**
   * Feeds a chunk. Returns null until the head is complete, then the parsed head
   * and the remaining bytes. Throws HandshakeError on a malformed or oversized
   * head; after an error every further push throws the same error. Pushing after
   * completion is a programming error (Error).
   */
  push(chunk: Uint8Array): HeadResult<K> | null {
    if (this.error) throw this.error;
    if (this.done) throw new Error('HeadReader: head already complete');
    try {
      return this.scan(chunk);
    } catch (e) {
      if (e instanceof HandshakeError) {
        this.error = e;
        this.chunks = [];
      }
      throw e;
    }
  }

  private fail(status: number, code: string, message: string): never {
    throw new HandshakeError(this.kind === 'request' ? status : 0, code, message);
  }

  private scan(chunk: Uint8Array): HeadResult<K> | null {
    let total = this.total;
    let lineLen = this.lineLen;
    let lines = this.lines;
    let sawCR = this.sawCR;
    const max = this.maxHeadSize;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i]!;
      // Checked per byte so nothing beyond the limit is ever buffered.
      if (++total > max) this.fail(431, 'HEAD_TOO_LARGE', 'head exceeds the size limit');
      if (sawCR) {
        if (c !== LF) this.fail(400, 'BARE_CR', 'CR not followed by LF');
        sawCR = false;
        if (lineLen === 0) return this.complete(chunk, i + 1);
        lines++;
        lineLen = 0;
      } else if (c === CR) {
        sawCR = true;
      } else if (c === LF) {
        this.fail(400, 'BARE_LF', 'LF without preceding CR');
      } else {
        // First byte of another field line once the start line and maxHeaderCount
        // fields are complete: fail now rather than at the end of that line.
        if (lineLen === 0 && lines > this.maxHeaderCount) this.fail(431, 'TOO_MANY_HEADERS', 'too many header fields');
        lineLen++;
      }
    }
    this.total = total;
    this.lineLen = lineLen;
    this.lines = lines;
    this.sawCR = sawCR;
    if (n > 0) this.chunks.push(chunk.slice());
    return null;
  }

  private complete(chunk: Uint8Array, end: number): HeadResult<K> {
    this.done = true;
    let bytes: Uint8Array;
    if (this.chunks.length === 0) {
      bytes = chunk.subarray(0, end);
    } else {
      let size = end;
      for (const c of this.chunks) size += c.length;
      bytes = new Uint8Array(size);
      let o = 0;
      for (const c of this.chunks) {
        bytes.set(c, o);
        o += c.length;
      }
      bytes.set(chunk.subarray(0, end), o);
      this.chunks = [];
    }
    const head = parseHeadBytes(this.kind, bytes) as HeadOf<K>;
    return { head, rest: chunk.subarray(end) };
  }
}

function parseWhole<K extends HeadKind>(kind: K, bytes: Uint8Array, limits?: HeadLimits): HeadOf<K> {
  const r = new HeadReader(kind, limits).push(bytes);
  const status = kind === 'request' ? 400 : 0;
  if (r === null) throw new HandshakeError(status, 'INCOMPLETE_HEAD', 'head is not terminated by an empty line');
  if (r.rest.length > 0) throw new HandshakeError(status, 'TRAILING_BYTES', 'bytes after the end of the head');
  return r.head;
}

/** Parses a complete request head (including the final CRLFCRLF, nothing after it). Throws HandshakeError. */
export function parseRequestHead(bytes: Uint8Array, limits?: HeadLimits): RequestHead {
  return parseWhole('request', bytes, limits);
}

/** Parses a complete response head (including the final CRLFCRLF, nothing after it). Throws HandshakeError (status 0). */
export function parseResponseHead(bytes: Uint8Array, limits?: HeadLimits): ResponseHead {
  return parseWhole('response', bytes, limits);
}
