/**
 * Masking keys for client frames (RFC 6455 5.3: "freshly generated", "unpredictable"; 10.3 explains why: a
 * predictable key lets a hostile page steer the bytes an intermediary sees). They come from the platform CSPRNG,
 * crypto.getRandomValues, but filled 4 KiB at a time: one call per 1024 frames instead of one per frame.
 */
export interface MaskKeySource {
  /** Writes 4 fresh key bytes into target[offset .. offset+3]. */
  fill(target: Uint8Array, offset: number): void;
}

const POOL_SIZE = 4096;

export class BufferedMaskKeySource implements MaskKeySource {
  private readonly pool = new Uint8Array(POOL_SIZE);
  private pos = POOL_SIZE;

  fill(target: Uint8Array, offset: number): void {
    let p = this.pos;
    if (p === POOL_SIZE) {
      crypto.getRandomValues(this.pool);
      p = 0;
    }
    const pool = this.pool;
    target[offset] = pool[p]!;
    target[offset + 1] = pool[p + 1]!;
    target[offset + 2] = pool[p + 2]!;
    target[offset + 3] = pool[p + 3]!;
    this.pos = p + 4;
  }

  /** A new 4-byte key (allocates; the encoder uses fill()). */
  next(): Uint8Array {
    const key = new Uint8Array(4);
    this.fill(key, 0);
    return key;
  }
}

/** The process-wide buffered key source every client encoder uses by default. */
export const randomMaskKeys: BufferedMaskKeySource = new BufferedMaskKeySource();
