import type { Frame, IncomingMessage, OutgoingMessage, StreamTuning } from './frame.js';

/**
 * Queuing strategies: every queue is measured in payload bytes, not in chunks, so a queue of many tiny frames and a
 * queue of one large message are held to the same memory budget. Items of zero bytes count as 1 so that a flood of
 * empty frames is still bounded.
 */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

export function byteSize(chunk: Uint8Array): number {
  return chunk.byteLength || 1;
}

export function frameSize(f: Frame): number {
  return f.payload.byteLength || 1;
}

/** Payload bytes of a message; text counts UTF-16 code units (its UTF-8 size is at most 3 times that). */
export function messageSize(m: IncomingMessage | OutgoingMessage): number {
  let n: number;
  switch (m.type) {
    case 'text':
      n = typeof m.data === 'string' ? m.data.length : m.data instanceof Uint8Array ? m.data.byteLength : 1;
      break;
    case 'close':
      n = 2 + (m.reason ? m.reason.length : 0);
      break;
    default:
      n = m.data instanceof Uint8Array ? m.data.byteLength : 1; // streamed payloads: measured piece by piece later
  }
  return n || 1;
}

export interface Strategy<T> {
  highWaterMark: number;
  size(chunk: T): number;
}

export function strategy<T>(size: (chunk: T) => number, highWaterMark: number | undefined): Strategy<T> {
  const hwm = highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!(hwm >= 0)) throw new RangeError('highWaterMark must be >= 0');
  return { highWaterMark: hwm, size };
}

export function writableHwm(o: StreamTuning): number {
  return o.writableHighWaterMark ?? DEFAULT_HIGH_WATER_MARK;
}

export function readableHwm(o: StreamTuning): number {
  return o.readableHighWaterMark ?? DEFAULT_HIGH_WATER_MARK;
}
