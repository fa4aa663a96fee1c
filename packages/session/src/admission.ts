/**
 * Who is let into the opening handshake, and who makes room. A server can hold only so many connections that
 * have not finished their handshake (each holds a descriptor, buffers and a timer); the question is who loses
 * when that many are held. Refusing the newest (a 503 to every arrival) hands the server to whoever opened
 * sockets first and keeps them silent: a slowloris then locks every real client out for as long as it likes.
 * Here the newest always gets in, and the *oldest* pending handshake is dropped to make room. A client that
 * completes its handshake is pending for one round trip, so it is never the oldest; a socket that never
 * completes ages to the front and is the one dropped. To keep one address (or /64) from pushing everyone
 * else's slow-but-real handshakes out, each address also has its own pending cap, over which its own oldest
 * handshake is dropped; and an optional cap on the sessions an address holds open refuses its newest.
 *
 * Behind a reverse proxy every connection comes from the proxy's few addresses. The defaults are sized so that
 * one proxy address does not trip them (see DEFAULT_ADMISSION), and a proxy named in `trustedProxies` is exempt
 * from the per-address pending cap (it forwards complete heads; the slowloris is its problem) while the cap on
 * open sessions counts the client address it reports in `Forwarded`/`X-Forwarded-For`.
 *
 * Bookkeeping is O(1) per event: intrusive doubly linked lists in arrival order (one for every pending
 * handshake, one per address), and a map from address key to its counts, deleted when both reach zero.
 * Runtime-free: ServerCore calls it for every adapter.
 */
import { HandshakeError, type HeaderList } from '@streamsocket/handshake';
import { addressKey, forwardedClient, trustTest, type TrustedProxies } from './addresses.js';

export interface AdmissionOptions {
  /**
   * Connections allowed in the opening handshake (accepted, 101 not yet sent) at once. At the cap a new
   * connection is still admitted and the oldest pending one is dropped (closed, counted in `evicted`).
   * Default 4096 (sized from the memory a pending handshake costs, see DEFAULT_ADMISSION).
   */
  maxPendingHandshakes?: number | undefined;
  /**
   * Pending handshakes one address (an IPv6 /64) may hold. Over it, that address's own oldest pending handshake
   * is dropped. Trusted proxies are exempt. Default 1024 (a quarter of the global default).
   */
  maxPendingHandshakesPerAddress?: number | undefined;
  /**
   * Open sessions one client address (an IPv6 /64) may hold; over it a new connection is refused (429 with
   * Retry-After before its handshake, or, when the address comes from a trusted proxy's header, close 1013 right
   * after the 101). Default Infinity: a single proxy address can hold any number.
   */
  maxConnectionsPerAddress?: number | undefined;
  /**
   * Peers whose `Forwarded`/`X-Forwarded-For` headers name the client: addresses and CIDR ranges, or a test.
   * Default none: those headers are ignored (anyone can send them).
   */
  trustedProxies?: TrustedProxies | undefined;
}

/**
 * The defaults and their derivation. A pending handshake costs the server, measured with 2,000 silent sockets held
 * open (packages/hardening/test/attack-*.node.test.ts, session README "Admission"): 7.3-7.5 KiB in Node, 12.2 KiB
 * in Deno, 3.9 KiB in Bun, plus one descriptor. 4096 of them are then ~30 / 49 / 16 MiB, a budget a server
 * with a few hundred MiB can spend on handshakes without putting its sessions at risk, and well above what real
 * clients hold at once (a client is pending for one round trip: 4096 pending needs ~40,000 arrivals per second at
 * a 100 ms round trip). The per-address share is a quarter of that, so that one address never holds more than a
 * quarter of the room, and a proxy address (whose handshakes complete at once) never reaches it.
 */
export const DEFAULT_ADMISSION = Object.freeze({
  maxPendingHandshakes: 4096,
  maxPendingHandshakesPerAddress: 1024,
  maxConnectionsPerAddress: Infinity,
});

/** Counters since the server started (monotonic, except where noted). */
export interface AdmissionStats {
  /** Connections admitted into the opening handshake. */
  admitted: number;
  /** Pending handshakes dropped at the global cap (oldest first). */
  evicted: number;
  /** Pending handshakes dropped at their address's cap (that address's oldest first). */
  evictedPerAddress: number;
  /** Connections refused because their address held `maxConnectionsPerAddress` sessions. */
  refusedPerAddress: number;
  /** Handshakes that reached `handshakeTimeout` (ServerCore counts them). */
  handshakeTimeouts: number;
  /** TLS handshakes that did not complete in time (adapters that own the TLS accept count them). */
  tlsHandshakeTimeouts: number;
}

/** Why a pending handshake was dropped. */
export type DropReason = 'evicted' | 'evicted-per-address';

/**
 * The errors a dropped handshake ends with (`opened` rejects with it, `onError` gets it): one shared instance per
 * reason, because under attack thousands are dropped per second and each new Error captures a stack.
 */
export const DROPPED: Readonly<Record<DropReason, HandshakeError>> = Object.freeze({
  evicted: new HandshakeError(503, 'EVICTED', 'dropped to make room: the oldest of maxPendingHandshakes pending handshakes'),
  'evicted-per-address': new HandshakeError(503, 'EVICTED', 'dropped to make room: the oldest pending handshake of its address (maxPendingHandshakesPerAddress)'),
});

interface Bucket {
  pending: number;
  open: number;
  head: PendingEntry | null;
  tail: PendingEntry | null;
}

/** One connection in the opening handshake, linked in arrival order globally and within its address. */
export class PendingEntry {
  /** @internal */ prev: PendingEntry | null = null;
  /** @internal */ next: PendingEntry | null = null;
  /** @internal */ aprev: PendingEntry | null = null;
  /** @internal */ anext: PendingEntry | null = null;
  /** @internal */ linked = true;
  constructor(
    /** The address key the entry counts under. */
    readonly key: string,
    /** The peer address as the transport reported it. */
    readonly address: string,
    /** @internal */ readonly bucket: Bucket | null,
    /** Called (once) when the admission drops this handshake to make room. */
    readonly drop: (reason: DropReason) => void,
  ) {}
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 1)) throw new RangeError(`${name} must be a number >= 1, got ${String(v)}`);
  return v;
}

export class Admission {
  readonly maxPending: number;
  readonly maxPendingPerAddress: number;
  readonly maxOpenPerAddress: number;
  readonly stats: AdmissionStats = { admitted: 0, evicted: 0, evictedPerAddress: 0, refusedPerAddress: 0, handshakeTimeouts: 0, tlsHandshakeTimeouts: 0 };
  /** Whether an address is a trusted proxy. */
  readonly trusted: (address: string) => boolean;
  readonly #hasProxies: boolean;
  readonly #buckets = new Map<string, Bucket>();
  #head: PendingEntry | null = null;
  #tail: PendingEntry | null = null;
  #pending = 0;

  constructor(o: AdmissionOptions = {}) {
    this.maxPending = positive('maxPendingHandshakes', o.maxPendingHandshakes, DEFAULT_ADMISSION.maxPendingHandshakes);
    this.maxPendingPerAddress = positive('maxPendingHandshakesPerAddress', o.maxPendingHandshakesPerAddress, DEFAULT_ADMISSION.maxPendingHandshakesPerAddress);
    this.maxOpenPerAddress = positive('maxConnectionsPerAddress', o.maxConnectionsPerAddress, DEFAULT_ADMISSION.maxConnectionsPerAddress);
    this.trusted = trustTest(o.trustedProxies);
    this.#hasProxies = o.trustedProxies !== undefined;
  }

  /** Handshakes pending now. */
  get pending(): number {
    return this.#pending;
  }

  /** Addresses with a pending handshake or an open session (the map's size, for leak checks). */
  get addresses(): number {
    return this.#buckets.size;
  }

  /** Pending handshakes and open sessions counted for `address`. */
  countsOf(address: string): { pending: number; open: number } {
    const b = this.#buckets.get(addressKey(address));
    return { pending: b?.pending ?? 0, open: b?.open ?? 0 };
  }

  /**
   * Whether a new connection from `address` may start a handshake, judged on the sessions it holds open. A
   * trusted proxy always may: its clients are counted by the address it reports, once the head is read.
   */
  mayConnect(address: string): boolean {
    if (this.maxOpenPerAddress === Infinity || (this.#hasProxies && this.trusted(address))) return true;
    const b = this.#buckets.get(addressKey(address));
    if (b === undefined || b.open < this.maxOpenPerAddress) return true;
    this.stats.refusedPerAddress++;
    return false;
  }

  /**
   * Admits a connection from `address` into the handshake, first dropping (through their `drop`) whichever
   * pending handshakes must go to stay within the caps: that address's oldest when it is at its own cap, else
   * the oldest of all when the server is at its cap. Returns the entry to pass to `leave()`.
   */
  enter(address: string, drop: (reason: DropReason) => void): PendingEntry {
    const key = addressKey(address);
    const exempt = this.#hasProxies && this.trusted(address);
    const bucket = exempt ? null : this.#bucket(key);
    let victim: PendingEntry | null = null;
    let reason: DropReason = 'evicted';
    if (bucket && bucket.pending >= this.maxPendingPerAddress && bucket.head) {
      victim = bucket.head;
      reason = 'evicted-per-address';
      this.stats.evictedPerAddress++;
    } else if (this.#pending >= this.maxPending && this.#head) {
      victim = this.#head;
      this.stats.evicted++;
    }
    if (victim) this.#unlink(victim);
    const e = new PendingEntry(key, address, bucket, drop);
    // Global list.
    e.prev = this.#tail;
    if (this.#tail) this.#tail.next = e;
    else this.#head = e;
    this.#tail = e;
    this.#pending++;
    // Address list.
    if (bucket) {
      e.aprev = bucket.tail;
      if (bucket.tail) bucket.tail.anext = e;
      else bucket.head = e;
      bucket.tail = e;
      bucket.pending++;
    }
    this.stats.admitted++;
    // Dropped last, so that whatever the drop does (it may call leave()) sees consistent counts.
    if (victim) {
      this.#release(victim.key);
      victim.drop(reason);
    }
    return e;
  }

  /** The handshake ended (opened, failed or dropped). Idempotent. */
  leave(e: PendingEntry): void {
    if (!e.linked) return;
    this.#unlink(e);
    this.#release(e.key);
  }

  /**
   * The client address a session counts under: the peer's, or, when the peer is a trusted proxy, the one its
   * `Forwarded`/`X-Forwarded-For` header reports.
   */
  clientAddress(peer: string, headers: HeaderList | undefined): string {
    if (!this.#hasProxies || headers === undefined || !this.trusted(peer)) return peer;
    return forwardedClient(peer, headers, this.trusted);
  }

  /**
   * A session opened for `client`: counts it, or returns false (counted in `refusedPerAddress`) when that
   * address already holds `maxConnectionsPerAddress` sessions. Each true must be matched by `closed(client)`.
   */
  open(client: string): boolean {
    if (this.maxOpenPerAddress === Infinity) return true;
    const b = this.#bucket(addressKey(client));
    if (b.open >= this.maxOpenPerAddress) {
      this.stats.refusedPerAddress++;
      this.#release(addressKey(client));
      return false;
    }
    b.open++;
    return true;
  }

  /** A session counted by `open()` ended. */
  closed(client: string): void {
    if (this.maxOpenPerAddress === Infinity) return;
    const key = addressKey(client);
    const b = this.#buckets.get(key);
    if (b && b.open > 0) b.open--;
    this.#release(key);
  }

  #bucket(key: string): Bucket {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { pending: 0, open: 0, head: null, tail: null };
      this.#buckets.set(key, b);
    }
    return b;
  }

  #release(key: string): void {
    const b = this.#buckets.get(key);
    if (b && b.pending === 0 && b.open === 0) this.#buckets.delete(key);
  }

  #unlink(e: PendingEntry): void {
    if (!e.linked) return;
    e.linked = false;
    if (e.prev) e.prev.next = e.next;
    else this.#head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.#tail = e.prev;
    e.prev = e.next = null;
    this.#pending--;
    const b = e.bucket;
    if (b) {
      if (e.aprev) e.aprev.anext = e.anext;
      else b.head = e.anext;
      if (e.anext) e.anext.aprev = e.aprev;
      else b.tail = e.aprev;
      e.aprev = e.anext = null;
      b.pending--;
    }
  }
}
