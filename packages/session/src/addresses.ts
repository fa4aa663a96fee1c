/**
 * Peer addresses for the admission policy: a canonical key per host (IPv4-mapped IPv6 folded to IPv4, an IPv6
 * host keyed by its /64, since one subscriber usually holds a whole /64), matching against trusted-proxy lists
 * (addresses and CIDR ranges, both families), and the client address a trusted proxy reports in `Forwarded`
 * (RFC 7239) or `X-Forwarded-For`. Pure string work, no runtime APIs.
 */
import type { HeaderList } from '@streamsocket/handshake';

/** Who may report the client's address: addresses or CIDR ranges ('10.0.0.0/8', '::1', 'fd00::/8'), or a test. */
export type TrustedProxies = readonly string[] | ((address: string) => boolean);

/** 16 bytes for IPv6, 4 for IPv4, null for anything that is not an IP literal. */
export function parseIp(text: string): Uint8Array | null {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%'); // fe80::1%eth0: the zone does not name another host
  if (zone >= 0) s = s.slice(0, zone);
  if (s.includes(':')) return parseIp6(s);
  return parseIp4(s);
}

function parseIp4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIp6(s: string): Uint8Array | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIp4(p); // ::ffff:1.2.3.4
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as dual-stack sockets report IPv4 peers) as the IPv4 it is. */
function unmap(b: Uint8Array): Uint8Array {
  if (b.length !== 16) return b;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return b;
  if (b[10] !== 0xff || b[11] !== 0xff) return b;
  return b.subarray(12);
}

/**
 * The key the per-address caps count under: the IPv4 address, or the first 64 bits of an IPv6 address (written
 * as `2001:db8:0:1::/64`). Anything that is not an IP literal (a Unix socket path, an obfuscated `Forwarded`
 * identifier) is its own key.
 */
export function addressKey(address: string): string {
  const raw = parseIp(address);
  if (!raw) return address;
  const b = unmap(raw);
  if (b.length === 4) return b.join('.');
  const g: string[] = [];
  for (let i = 0; i < 8; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return `${g.join(':')}::/64`;
}

interface Range {
  bytes: Uint8Array;
  bits: number;
}

function parseRange(spec: string): Range {
  const slash = spec.indexOf('/');
  const ip = parseIp(slash >= 0 ? spec.slice(0, slash) : spec);
  if (!ip) throw new TypeError(`trustedProxies: ${JSON.stringify(spec)} is not an IP address or CIDR range`);
  const bytes = unmap(ip);
  const max = bytes.length * 8;
  const shift = ip.length === 16 && bytes.length === 4 ? 96 : 0; // ::ffff:10.0.0.0/104 is 10.0.0.0/8
  let bits = max;
  if (slash >= 0) {
    const text = spec.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text) || Number(text) - shift > max || Number(text) < shift) {
      throw new TypeError(`trustedProxies: bad prefix length in ${JSON.stringify(spec)}`);
    }
    bits = Number(text) - shift;
  }
  return { bytes, bits };
}

function inRange(b: Uint8Array, r: Range): boolean {
  if (b.length !== r.bytes.length) return false;
  let bits = r.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i]! & mask) !== (r.bytes[i]! & mask)) return false;
  }
  return true;
}

/** A predicate for `trustedProxies` (validated now: a typo throws TypeError at serve() time, not per request). */
export function trustTest(spec: TrustedProxies | undefined): (address: string) => boolean {
  if (spec === undefined) return () => false;
  if (typeof spec === 'function') return spec;
  if (!Array.isArray(spec)) throw new TypeError('trustedProxies must be an array of addresses/CIDR ranges or a function');
  const ranges = spec.map(parseRange);
  if (ranges.length === 0) return () => false;
  return (address: string): boolean => {
    const ip = parseIp(address);
    if (!ip) return false;
    const b = unmap(ip);
    return ranges.some((r) => inRange(b, r));
  };
}

/** `for=` of one Forwarded element, unquoted, without brackets or port; '' when absent. */
function forwardedFor(element: string): string {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    let v = pair.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    return stripPort(v);
  }
  return '';
}

/** '[2001:db8::1]:4711' -> '2001:db8::1'; '192.0.2.1:80' -> '192.0.2.1'; anything else unchanged. */
function stripPort(v: string): string {
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    return end > 0 ? v.slice(1, end) : v;
  }
  const colon = v.indexOf(':');
  if (colon > 0 && colon === v.lastIndexOf(':')) return v.slice(0, colon); // IPv4 with a port (one colon only)
  return v;
}

/**
 * The client's address when the peer is a trusted proxy: the hops in `Forwarded` (RFC 7239, preferred when
 * present) or `X-Forwarded-For` are read from the right, skipping trusted proxies; the first hop that is not one
 * is the client (hops further left were written by that client and prove nothing). With no usable header, or
 * only trusted hops, the answer is the leftmost hop, else the peer itself.
 */
export function forwardedClient(peer: string, headers: HeaderList, trusted: (address: string) => boolean): string {
  let hops: string[];
  const fwd = headers.getAll('forwarded');
  if (fwd.length > 0) {
    hops = fwd.join(',').split(',').map(forwardedFor);
  } else {
    const xff = headers.getAll('x-forwarded-for');
    if (xff.length === 0) return peer;
    hops = xff.join(',').split(',').map((h) => stripPort(h.trim()));
  }
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    if (h === '') return peer; // a hop the proxy could not name: count it under the proxy, not under ''
    if (!trusted(h)) return h;
  }
  return hops[0] || peer;
}
