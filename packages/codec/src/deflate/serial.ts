/**
 * Runs async operations one after another, in call order. One per direction and connection: a zlib stream with
 * context takeover must see messages in order, and results must come back in the order messages were given,
 * even when a small message (fast synchronous path) follows a large one (threadpool path).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(op: () => Promise<T> | T): Promise<T> {
    // Idle queue: start at once, saving a microtask hop on the common one-message-at-a-time path.
    const p = this.pending === 0 ? invoke(op) : this.tail.then(op);
    this.pending++;
    const settle = (): void => { this.pending--; };
    this.tail = p.then(settle, settle);
    return p;
  }
}

function invoke<T>(op: () => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(op());
  } catch (e) {
    return Promise.reject(e);
  }
}
