/**
 * Topics: `ws.subscribe(topic)`, `ws.unsubscribe(topic)`, `topics.publish(topic, message, { except })`.
 *
 * A published message is framed once: one server frame (unmasked, so the same bytes are right for every peer),
 * written as is to every subscriber our codec runs (Connection.writeFramed, in order with the subscriber's own
 * messages). permessage-deflate: subscribers whose server side resets its context after every message
 * (server_no_context_takeover) are grouped by window size and the message is compressed once per group; a
 * subscriber whose context is kept between messages is the one case compressed per connection, by its own
 * compressor (Connection.writeMessage), since no other could produce bytes its peer can inflate. Sessions
 * the platform runs (Bun, Deno, workerd) get the message through the platform's send().
 *
 * Slow subscribers: a subscriber whose transport is congested (over its high-water mark) accumulates a backlog
 * of published bytes; past `maxPublishBacklog` the policy applies: `'close'` (default) closes it with 1013 (Try
 * Again Later), `'drop'` drops the message for it. Either way `dropped` counts the messages not delivered, so the
 * server's memory for one subscriber is bounded by its transport's buffer plus `maxPublishBacklog`.
 *
 * With a `backplane` (e.g. Redis), publish() also sends the message to every other process, and messages from
 * them are delivered here as if published locally (see backplane.ts).
 */
import { FrameEncoder, PerMessageDeflate, encodeUtf8, type DeflateAgreement } from '@streamsocket/codec';
import { Connection } from './connection.js';
import { PlatformConnection } from './platform.js';
import type { WebSocketStream as Session } from './websocket-stream.js';

/** Any session, whatever its readable yields (topics only write to it). */
type WebSocketStream = Session<unknown>;

export type PublishData = string | Uint8Array | ArrayBuffer | ArrayBufferView;

export interface PublishOptions {
  /** A session (or several) not to send to: typically the sender. */
  except?: WebSocketStream | Iterable<WebSocketStream>;
  /** Deliver here only, not through the backplane. Default false. */
  local?: boolean;
}

/** Carries published messages between processes (see backplane.ts for the Redis one). */
export interface Backplane {
  /** Called once by Topics: messages other processes publish go to `deliver`. */
  attach(deliver: (topic: string, data: string | Uint8Array) => void): void;
  /** Tell the other processes; the backplane must not echo it back to this one. */
  publish(topic: string, data: string | Uint8Array): void;
  /** The first local subscriber of `topic` appeared / the last one left. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

export interface TopicsOptions {
  /** Bytes of published messages a congested subscriber may have pending before the policy applies. Default 1 MiB. */
  maxPublishBacklog?: number;
  /** What to do with a subscriber over `maxPublishBacklog`: close it with 1013 (default), or drop the message. */
  slowSubscriber?: 'close' | 'drop';
  backplane?: Backplane;
}

export const DEFAULT_MAX_PUBLISH_BACKLOG = 1024 * 1024;

const OP_TEXT = 1;
const OP_BINARY = 2;
const FIN = 0x80;
const RSV1 = 0x40;

/** Per-subscriber state. */
interface Sub {
  /** One topic as the string itself (most sessions have one or two: no Set of their own), more as a Set. */
  topics: string | Set<string>;
  /** Published bytes written while the transport was congested (reset once it is not). */
  backlog: number;
}

/** Subscribers sharing deflate parameters without context takeover: one compression for all of them. */
interface Group {
  pmd: PerMessageDeflate;
  /** Pending compressions, so that a group's messages stay in publish order. */
  tail: Promise<void> | null;
}

export class Topics {
  /** Messages not delivered to a subscriber because it was too slow (dropped, or closed with 1013). */
  dropped = 0;
  /** Subscribers closed with 1013 for being too slow. */
  closedSlow = 0;
  readonly #byTopic = new Map<string, Set<WebSocketStream>>();
  readonly #subs = new Map<WebSocketStream, Sub>();
  readonly #maxBacklog: number;
  readonly #policy: 'close' | 'drop';
  readonly #backplane: Backplane | null;
  readonly #enc = new FrameEncoder({ role: 'server' });
  readonly #groups = new Map<string, Group>();

  constructor(options: TopicsOptions = {}) {
    const max = options.maxPublishBacklog ?? DEFAULT_MAX_PUBLISH_BACKLOG;
    if (!(max >= 0)) throw new RangeError('maxPublishBacklog must be >= 0');
    const policy = options.slowSubscriber ?? 'close';
    if (policy !== 'close' && policy !== 'drop') throw new TypeError("slowSubscriber must be 'close' or 'drop'");
    this.#maxBacklog = max;
    this.#policy = policy;
    this.#backplane = options.backplane ?? null;
    this.#backplane?.attach((topic, data) => this.#deliver(topic, data, null));
  }

  subscribe(ws: WebSocketStream, topic: string): void {
    if (typeof topic !== 'string') throw new TypeError('a topic is a string');
    if (ws.readyState >= 2) return;
    const sub = this.#subs.get(ws);
    if (!sub) this.#subs.set(ws, { topics: topic, backlog: 0 });
    else if (sub.topics === topic || (typeof sub.topics !== 'string' && sub.topics.has(topic))) return;
    else if (typeof sub.topics === 'string') sub.topics = new Set([sub.topics, topic]);
    else sub.topics.add(topic);
    let set = this.#byTopic.get(topic);
    if (!set) {
      this.#byTopic.set(topic, (set = new Set()));
      this.#backplane?.subscribe(topic);
    }
    set.add(ws);
  }

  unsubscribe(ws: WebSocketStream, topic: string): void {
    const sub = this.#subs.get(ws);
    if (!sub) return;
    if (typeof sub.topics === 'string') {
      if (sub.topics !== topic) return;
      this.#subs.delete(ws);
    } else {
      if (!sub.topics.delete(topic)) return;
      if (sub.topics.size === 0) this.#subs.delete(ws);
    }
    this.#leave(ws, topic);
  }

  /** Drops every subscription of `ws` (it closed). */
  forget(ws: WebSocketStream): void {
    const sub = this.#subs.get(ws);
    if (!sub) return;
    this.#subs.delete(ws);
    if (typeof sub.topics === 'string') this.#leave(ws, sub.topics);
    else for (const t of sub.topics) this.#leave(ws, t);
  }

  subscriptionsOf(ws: WebSocketStream): string[] {
    const t = this.#subs.get(ws)?.topics;
    return t === undefined ? [] : typeof t === 'string' ? [t] : [...t];
  }

  isSubscribed(ws: WebSocketStream, topic: string): boolean {
    const t = this.#subs.get(ws)?.topics;
    return t === undefined ? false : typeof t === 'string' ? t === topic : t.has(topic);
  }

  /** Subscribers of `topic` in this process. */
  subscriberCount(topic: string): number {
    return this.#byTopic.get(topic)?.size ?? 0;
  }

  /** Topics with at least one subscriber in this process. */
  get topics(): string[] {
    return [...this.#byTopic.keys()];
  }

  /**
   * Sends `data` (string: text, bytes: binary) to every open subscriber of `topic` here but those in `except`,
   * and to the other processes through the backplane. Returns the number of local subscribers it was written
   * (or, compressing, is being written) to.
   */
  publish(topic: string, data: PublishData, options: PublishOptions = {}): number {
    let msg: string | Uint8Array;
    if (typeof data === 'string') msg = data;
    else if (data instanceof Uint8Array) msg = data;
    else if (data instanceof ArrayBuffer) msg = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) msg = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else throw new TypeError('a published message is a string, ArrayBuffer or ArrayBufferView');
    if (!options.local) this.#backplane?.publish(topic, msg);
    return this.#deliver(topic, msg, options.except ?? null);
  }

  #leave(ws: WebSocketStream, topic: string): void {
    const set = this.#byTopic.get(topic);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) {
      this.#byTopic.delete(topic);
      this.#backplane?.unsubscribe(topic);
    }
  }

  #deliver(topic: string, msg: string | Uint8Array, except: WebSocketStream | Iterable<WebSocketStream> | null): number {
    const set = this.#byTopic.get(topic);
    if (!set || set.size === 0) return 0;
    let skip: Set<WebSocketStream> | WebSocketStream | null = null;
    if (except !== null) skip = isSession(except) ? except : new Set(except);
    const bytes = typeof msg === 'string' ? encodeUtf8(msg) : msg;
    const opcode = typeof msg === 'string' ? OP_TEXT : OP_BINARY;
    let plain: Uint8Array[] | null = null; // framed on first need, shared by every subscriber
    let grouped: Map<string, WebSocketStream[]> | null = null;
    let n = 0;
    for (const ws of set) {
      if (skip !== null && (skip === ws || (skip instanceof Set && skip.has(ws)))) continue;
      const core = ws.core;
      if (core === null || ws.readyState !== 1) continue;
      const sub = this.#subs.get(ws)!;
      if (core instanceof Connection) {
        const a = ws.deflateAgreement;
        if (a !== null && a.serverNoContextTakeover) {
          // Always through the group, compressed or not, so its messages keep their order.
          const key = groupKey(a);
          this.#group(key, a);
          let list = (grouped ??= new Map()).get(key);
          if (!list) grouped.set(key, (list = []));
          list.push(ws);
          n++;
          continue;
        }
        if (!this.#admit(ws, sub, core.sendCongested, bytes.byteLength)) continue;
        if (a !== null) {
          // The peer keeps our compression context between messages: only this connection's compressor can
          // compress for it, so it encodes this one itself (compressed over its threshold, in order).
          if (core.writeMessage(msg)) n++;
          continue;
        }
        plain ??= this.#frame(opcode, bytes, false);
        if (core.writeFramed(plain)) n++;
      } else if (core instanceof PlatformConnection) {
        if (!this.#admit(ws, sub, core.congested, bytes.byteLength)) continue;
        if (core.sendNow(msg) !== 0) n++;
      }
    }
    if (grouped !== null) for (const [key, list] of grouped) this.#compressed(key, opcode, bytes, list);
    return n;
  }

  /** Applies the slow-subscriber policy; true when the message may be written. */
  #admit(ws: WebSocketStream, sub: Sub, congested: boolean, size: number): boolean {
    if (!congested) {
      sub.backlog = 0;
      return true;
    }
    if (sub.backlog + size <= this.#maxBacklog) {
      sub.backlog += size;
      return true;
    }
    this.dropped++;
    if (this.#policy === 'close') {
      this.closedSlow++;
      this.forget(ws);
      try {
        ws.closeWithCode(1013, 'subscriber too slow');
      } catch {
        /* closing already */
      }
    }
    return false;
  }

  #frame(opcode: number, payload: Uint8Array, rsv1: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.#enc.write(FIN | (rsv1 ? RSV1 : 0) | opcode, payload, out);
    // Small frames are fresh slab slices, large ones the payload itself: neither is reused, so they can be shared.
    return out;
  }

  #group(key: string, a: DeflateAgreement): Group {
    let g = this.#groups.get(key);
    if (!g) {
      g = { pmd: new PerMessageDeflate(a, 'server', { maxMessageSize: Infinity }), tail: null };
      this.#groups.set(key, g);
    }
    return g;
  }

  /** Compresses once for the group, then writes the same frame to each of its subscribers, in publish order. */
  #compressed(key: string, opcode: number, bytes: Uint8Array, list: WebSocketStream[]): void {
    const g = this.#groups.get(key)!;
    const write = (frames: Uint8Array[]): void => {
      let size = 0;
      for (const f of frames) size += f.byteLength;
      for (const ws of list) {
        const core = ws.core;
        const sub = this.#subs.get(ws);
        if (!(core instanceof Connection) || ws.readyState !== 1 || !sub) continue;
        if (this.#admit(ws, sub, core.sendCongested, size)) core.writeFramed(frames);
      }
    };
    const compress = bytes.byteLength > 0 && g.pmd.shouldCompress(bytes.byteLength);
    if (!compress && g.tail === null) return write(this.#frame(opcode, bytes, false));
    const run = async (): Promise<void> => {
      let frames: Uint8Array[];
      try {
        frames = compress ? this.#frame(opcode, await g.pmd.compress(bytes), true) : this.#frame(opcode, bytes, false);
      } catch {
        frames = this.#frame(opcode, bytes, false); // compression failed: uncompressed is always allowed
      }
      write(frames);
    };
    const p: Promise<void> = (g.tail ?? Promise.resolve()).then(run).finally(() => {
      if (g.tail === p) g.tail = null;
    });
    g.tail = p;
  }
}

function groupKey(a: DeflateAgreement): string {
  return `${a.serverMaxWindowBits}`;
}

function isSession(x: unknown): x is WebSocketStream {
  return typeof x === 'object' && x !== null && 'opened' in x && 'closed' in x && typeof (x as { close?: unknown }).close === 'function';
}
