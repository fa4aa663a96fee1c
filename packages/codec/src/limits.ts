import type { CodecLimits } from './frame.js';

/**
 * Default largest message: 64 MiB. Large enough for any realistic single WebSocket message (bigger payloads should
 * be streamed: see `streamMessages`), small enough that a hostile peer cannot make one connection buffer more than
 * that. Frames default to the same limit, since a frame can never be larger than its message.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

export interface ResolvedLimits {
  maxFrameSize: number;
  maxMessageSize: number;
}

/**
 * Applies defaults and validates. `Infinity` is accepted (no limit, for streamed messages) and, like every value, is
 * capped at Number.MAX_SAFE_INTEGER: lengths beyond that cannot be represented exactly and are refused with 1009.
 */
export function resolveLimits(o: CodecLimits): ResolvedLimits {
  const maxMessageSize = check('maxMessageSize', o.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
  const maxFrameSize = check('maxFrameSize', o.maxFrameSize ?? maxMessageSize);
  return { maxFrameSize, maxMessageSize };
}

function check(name: string, v: number): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw new RangeError(`${name} must be a number >= 0`);
  return Math.min(v, Number.MAX_SAFE_INTEGER);
}
