/**
 * One message as a stream (the `streamMessages` option; README "Streaming messages").
 *
 * Incoming: with `streamMessages: true` the session's readable yields a {@link StreamedMessage} per data message as
 * soon as its first bytes arrive, and the message's own `stream` yields its pieces as frames (or parts of frames)
 * come in. The session reads the socket only while the current message's stream has room (its high-water mark is
 * the session's `readHighWaterMark`), so memory stays bounded whatever the message's size; the next message starts
 * only after this one ended, and the readable queues at most one message ahead of its reader. Cancelling a message's stream discards the rest of that message and keeps the
 * connection. Text pieces are strings (decoded incrementally; a code point split across frames is joined).
 *
 * Outgoing: the writable also takes a `ReadableStream<Uint8Array>` (a binary message) or an {@link OutgoingStream}
 * (`{ type, stream }`, the same shape as what the readable yields, so a streamed echo is a plain pipe). Each piece
 * becomes a frame; the next piece is pulled only once the socket keeps up. Streamed messages are sent uncompressed
 * (permessage-deflate compresses whole messages).
 */
import { ReadableStream } from '@web-std/stream';
import { WebSocketError } from './errors.js';
import { utf8Length } from './close-args.js';
import { concat } from './wire.js';

/** A data message whose payload arrives piece by piece. */
export type StreamedMessage =
  | { readonly type: 'text'; readonly stream: ReadableStream<string> }
  | { readonly type: 'binary'; readonly stream: ReadableStream<Uint8Array> };

/** A message body the writable takes piece by piece. */
export type OutgoingStream =
  | { type: 'text'; stream: ReadableStream<string | Uint8Array> }
  | { type: 'binary'; stream: ReadableStream<Uint8Array> };

/** What the readable yields, by the options given: whole messages, or streams with `streamMessages: true`. */
export type MessageOf<O> = O extends { streamMessages: true } ? StreamedMessage : string | Uint8Array;

/** Who is told when a message's reader wants more, or cancelled it. */
export interface MessageStreamOwner {
  onMessagePull(): void;
  onMessageCancel(m: IncomingMessageStream): void;
}

function pieceSize(p: string | Uint8Array): number {
  return typeof p === 'string' ? p.length : p.byteLength;
}

/**
 * The readable side of one incoming streamed message (its underlying source; declared without `implements
 * UnderlyingDefaultSource`, a DOM name that would leak into the .d.ts, which must type-check without the DOM lib).
 */
export class IncomingMessageStream {
  readonly message: StreamedMessage;
  private ctrl!: ReadableStreamDefaultController<string | Uint8Array>;
  private readonly text: TextDecoder | null;
  private done = false;

  constructor(kind: 'text' | 'binary', highWaterMark: number, private readonly owner: MessageStreamOwner) {
    this.text = kind === 'text' ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }) : null;
    const stream = new ReadableStream<string | Uint8Array>(this, { highWaterMark, size: pieceSize });
    this.message = { type: kind, stream } as StreamedMessage;
  }

  start(ctrl: ReadableStreamDefaultController<string | Uint8Array>): void {
    this.ctrl = ctrl;
  }

  pull(): void {
    this.owner.onMessagePull();
  }

  cancel(): void {
    this.done = true;
    this.owner.onMessageCancel(this);
  }

  /** Room left in the message's queue (the session's demand signal while this message is current). */
  get desiredSize(): number {
    return this.ctrl.desiredSize ?? 0;
  }

  /** A piece of the payload (UTF-8 already validated by the codec for text); `last` ends the message. */
  push(data: Uint8Array, last: boolean): void {
    if (this.done) return;
    if (this.text === null) {
      if (data.byteLength > 0) this.ctrl.enqueue(data);
    } else {
      const s = this.text.decode(data, { stream: !last });
      if (s.length > 0) this.ctrl.enqueue(s);
    }
    if (last) {
      this.done = true;
      this.ctrl.close();
    }
  }

  /** The connection ended before the message did. */
  error(e?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.ctrl.error(e ?? new WebSocketError('The WebSocket closed in the middle of a message.'));
  }
}

/** A whole message as a one-piece stream (engines that only ever see whole messages: platform.ts). */
export function wholeAsStream(data: string | Uint8Array): StreamedMessage {
  if (typeof data === 'string') {
    return { type: 'text', stream: new ReadableStream<string>({ start: (c) => { if (data.length > 0) c.enqueue(data); c.close(); } }) };
  }
  return { type: 'binary', stream: new ReadableStream<Uint8Array>({ start: (c) => { if (data.byteLength > 0) c.enqueue(data); c.close(); } }) };
}

/** A streamed body the writable was given, as a codec payload source; null for every other chunk. */
export function outgoingBody(chunk: unknown): { type: 'text' | 'binary'; source: ReadableStream<string | Uint8Array> } | null {
  if (typeof chunk !== 'object' || chunk === null) return null;
  if (isReadable(chunk)) return { type: 'binary', source: chunk as ReadableStream<Uint8Array> };
  const o = chunk as { type?: unknown; stream?: unknown };
  if ((o.type === 'text' || o.type === 'binary') && isReadable(o.stream)) return { type: o.type, source: o.stream as ReadableStream<string | Uint8Array> };
  return null;
}

function isReadable(x: unknown): boolean {
  return typeof x === 'object' && x !== null && typeof (x as ReadableStream).getReader === 'function';
}

/**
 * Reads a streamed body whole, for engines that can only send whole messages (platform.ts): at most `limit`
 * bytes (the session's maxMessageSize), else a RangeError and the source is cancelled.
 */
export async function collectBody(body: { type: 'text' | 'binary'; source: ReadableStream<string | Uint8Array> }, limit: number): Promise<string | Uint8Array> {
  const text = body.type === 'text';
  const decoder = text ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }) : null;
  const parts: Uint8Array[] = [];
  let s = '';
  let n = 0;
  const reader = body.source.getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      const v: unknown = r.value;
      if (typeof v === 'string') {
        if (decoder === null) throw new TypeError('binary message pieces must be Uint8Array');
        n += utf8Length(v);
        s += decoder.decode() + v; // bytes before a string piece must end on a code point (fatal: throws if not)
      } else if (v instanceof Uint8Array) {
        n += v.byteLength;
        if (decoder !== null) s += decoder.decode(v, { stream: true });
        else parts.push(v);
      } else {
        throw new TypeError('message pieces must be Uint8Array (or string for text)');
      }
      if (n > limit) throw new RangeError(`streamed message of more than ${limit} bytes (maxMessageSize) on an engine that sends whole messages`);
    }
    if (decoder !== null) return s + decoder.decode();
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
  return parts.length === 0 ? new Uint8Array(0) : concat(parts);
}
