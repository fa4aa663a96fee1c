/**
 * A Redis backplane for the session's Topics: every process publishes to a Redis channel per topic and
 * subscribes to the channels of the topics it has local subscribers for, so `publish()` reaches subscribers in
 * every process on every machine that shares the Redis.
 *
 * Wire format of a channel message: one byte (1 text, 2 binary), the publishing backplane's 8-byte id (so a
 * process ignores its own messages, which Topics already delivered locally), then the payload.
 *
 * Redis pub/sub is fire-and-forget, and this backplane keeps it so rather than buffer: while the publishing
 * connection is down, publish() drops the message and counts it in `dropped` (no offline queue that could grow
 * without bound); messages other processes publish while this process's subscriber connection is down never
 * reach it. Subscriptions survive a Redis restart: the client reconnects (backoff up to `maxReconnectDelay`) and
 * subscribes to every channel it had again.
 */
import { createClient } from 'redis';
import type { Backplane } from '@streamsocket/session';

export interface RedisBackplaneOptions {
  /** redis[s]://[[user][:password]@]host[:port][/db]. Default redis://127.0.0.1:6379. */
  url?: string;
  /** Channel name prefix (before the topic). Default 'streamsocket:'. */
  prefix?: string;
  /** Longest wait between reconnection attempts, ms. Default 2000. */
  maxReconnectDelay?: number;
  /** Connection errors (each failed attempt while Redis is away). Default: ignore. */
  onError?: (error: unknown) => void;
}

const TEXT = 1;
const BINARY = 2;
const ID_BYTES = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Client = ReturnType<typeof createClient>;

/** How long close() lets a client finish its queued commands before destroying it. */
const CLOSE_GRACE_MS = 1000;

async function closeClient(c: Client): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((r) => (timer = setTimeout(r, CLOSE_GRACE_MS)));
  try {
    await Promise.race([c.close().catch(() => {}), grace]);
  } finally {
    clearTimeout(timer);
    try {
      if (c.isOpen) c.destroy();
    } catch {
      /* already closed */
    }
  }
}

export class RedisBackplane implements Backplane {
  /** Messages publish() dropped because Redis was unreachable. */
  dropped = 0;
  /** Messages handed to Redis. */
  published = 0;
  /** Messages from other processes delivered here. */
  received = 0;
  /** Resolves once both connections are up for the first time; rejects if the first connection fails. */
  readonly ready: Promise<void>;
  readonly #id = crypto.getRandomValues(new Uint8Array(ID_BYTES));
  readonly #pub: Client;
  readonly #sub: Client;
  readonly #prefix: string;
  #deliver: ((topic: string, data: string | Uint8Array) => void) | null = null;
  readonly #listener = (message: Buffer, channel: Buffer): void => this.#onMessage(message, channel);

  constructor(options: RedisBackplaneOptions = {}) {
    const maxDelay = options.maxReconnectDelay ?? 2000;
    const onError = options.onError ?? ((): void => {});
    this.#prefix = options.prefix ?? 'streamsocket:';
    const socket = { reconnectStrategy: (retries: number): number => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay) };
    const url = options.url ?? 'redis://127.0.0.1:6379';
    // The publisher queues nothing while disconnected (publish() drops and counts instead); the subscriber keeps
    // its offline queue, which holds at most one SUBSCRIBE/UNSUBSCRIBE per topic.
    this.#pub = createClient({ url, socket, disableOfflineQueue: true });
    this.#sub = createClient({ url, socket });
    this.#pub.on('error', onError);
    this.#sub.on('error', onError);
    this.ready = Promise.all([this.#pub.connect(), this.#sub.connect()]).then(() => {});
    this.ready.catch(() => {});
  }

  /** True while the publishing connection is up. */
  get connected(): boolean {
    return this.#pub.isReady && this.#sub.isReady;
  }

  attach(deliver: (topic: string, data: string | Uint8Array) => void): void {
    this.#deliver = deliver;
  }

  publish(topic: string, data: string | Uint8Array): void {
    if (!this.#pub.isReady) {
      this.dropped++;
      return;
    }
    const payload = typeof data === 'string' ? encoder.encode(data) : data;
    const msg = Buffer.allocUnsafe(1 + ID_BYTES + payload.byteLength);
    msg[0] = typeof data === 'string' ? TEXT : BINARY;
    msg.set(this.#id, 1);
    msg.set(payload, 1 + ID_BYTES);
    this.published++;
    this.#pub.publish(this.#prefix + topic, msg).catch(() => {
      this.published--;
      this.dropped++;
    });
  }

  subscribe(topic: string): void {
    this.#sub.subscribe(this.#prefix + topic, this.#listener, true).catch(() => {});
  }

  unsubscribe(topic: string): void {
    this.#sub.unsubscribe(this.#prefix + topic, this.#listener, true).catch(() => {});
  }

  /**
   * Closes both connections. A client's close() waits for its queued commands, which a Redis that is down never
   * answers (the subscriber queues its subscriptions while offline): after CLOSE_GRACE_MS it is destroyed instead,
   * so close() always ends.
   */
  async close(): Promise<void> {
    await Promise.allSettled([closeClient(this.#pub), closeClient(this.#sub)]);
  }

  #onMessage(message: Buffer, channel: Buffer): void {
    if (message.byteLength < 1 + ID_BYTES || this.#deliver === null) return;
    let own = true;
    for (let i = 0; i < ID_BYTES; i++) if (message[1 + i] !== this.#id[i]) own = false;
    if (own) return;
    const kind = message[0];
    if (kind !== TEXT && kind !== BINARY) return;
    const topic = channel.toString('utf8').slice(this.#prefix.length);
    const payload = message.subarray(1 + ID_BYTES);
    this.received++;
    this.#deliver(topic, kind === TEXT ? decoder.decode(payload) : new Uint8Array(payload));
  }
}
