/**
 * Which decoded payloads own their memory. A binary message comes out of the decoder either as a view of a
 * transport chunk (a frame lying whole in one chunk: no copy) or in a buffer the decoder allocated for it alone (a
 * frame that spanned chunks, the join of a fragmented message). Only the second may be handed out as an
 * `ArrayBuffer` without a copy: a chunk's buffer belongs to the transport (which may reuse it, or, over an
 * in-memory pipe, is the sender's own buffer, possibly sent again).
 *
 * The decoder marks the buffers it allocated for one payload alone; `takeOwnedBuffer()` gives such a buffer out
 * once (the mark is removed, so a second taker gets null). Marks are weak: an untaken buffer is collected as usual.
 * Small payloads are not marked (a copy of under 1 KiB costs less than the bookkeeping).
 */
const owned = new WeakSet<ArrayBufferLike>();

/** Payloads shorter than this are never marked. */
export const OWNED_MIN = 1024;

/** Marks `buf` (a whole buffer the caller allocated and no one else refers to) as a payload's own. */
export function markOwned(buf: Uint8Array): void {
  if (buf.byteLength >= OWNED_MIN && buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) owned.add(buf.buffer);
}

/**
 * The ArrayBuffer of `payload` when the decoder allocated it for this payload alone and no one took it before
 * (then the caller owns it); otherwise null (copy it).
 */
export function takeOwnedBuffer(payload: Uint8Array): ArrayBuffer | null {
  if (payload.byteLength < OWNED_MIN || payload.byteOffset !== 0) return null;
  const b = payload.buffer;
  if (payload.byteLength !== b.byteLength || !owned.delete(b)) return null;
  return b as ArrayBuffer;
}
