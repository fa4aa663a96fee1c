/**
 * Ordered, case-insensitive header collection. Keeps the original casing and
 * order of every field line (for logging/proxying).
 *
 * Memory over look-up speed: a server keeps every session's request head for as long as the session lives
 * (`ws.request`), so the field lines are one flat array of names and values, and a look-up scans it comparing
 * names without regard to ASCII case. A head has at most `maxHeaderCount` lines (100 by default, a dozen or two in
 * practice) and is looked up a few times per handshake. A per-name index (a Map of lower-cased names to arrays of
 * values, beside an array of [name, value] pairs) held 3.9 KiB for a browser-like 14-line head, strings included;
 * the flat array holds 1.5 KiB, and 4 look-ups take about 1.5 µs instead of 0.8 (Node 20).
 */
export class HeaderList {
  /** name, value, name, value, ... in field-line order. */
  private readonly lines: string[] = [];

  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries) for (const [n, v] of entries) this.append(n, v);
  }

  /** Adds a field line. No validation: the parser and the builders validate before calling this. */
  append(name: string, value: string): void {
    this.lines.push(name, value);
  }

  /**
   * The field value; if the field occurs on several lines the values are joined
   * with ', ' (RFC 9110 section 5.3 list combination). Undefined if absent.
   */
  get(name: string): string | undefined {
    const lines = this.lines;
    let found: string | undefined;
    let more: string[] | undefined;
    for (let i = 0; i < lines.length; i += 2) {
      if (!sameName(lines[i]!, name)) continue;
      if (found === undefined) found = lines[i + 1]!;
      else (more ??= [found]).push(lines[i + 1]!);
    }
    return more ? more.join(', ') : found;
  }

  /** Every value of the field, one per field line, in order. */
  getAll(name: string): string[] {
    const lines = this.lines;
    const out: string[] = [];
    for (let i = 0; i < lines.length; i += 2) if (sameName(lines[i]!, name)) out.push(lines[i + 1]!);
    return out;
  }

  has(name: string): boolean {
    const lines = this.lines;
    for (let i = 0; i < lines.length; i += 2) if (sameName(lines[i]!, name)) return true;
    return false;
  }

  /** Number of field lines with this name. */
  count(name: string): number {
    const lines = this.lines;
    let n = 0;
    for (let i = 0; i < lines.length; i += 2) if (sameName(lines[i]!, name)) n++;
    return n;
  }

  /** All field lines, original casing, in order. */
  entries(): Array<[string, string]> {
    const lines = this.lines;
    const out: Array<[string, string]> = [];
    for (let i = 0; i < lines.length; i += 2) out.push([lines[i]!, lines[i + 1]!]);
    return out;
  }

  /** Number of field lines. */
  get size(): number {
    return this.lines.length >> 1;
  }
}

/**
 * Field names equal without regard to ASCII case (RFC 9110 5.1): only A-Z and a-z are folded, so that no other
 * pair of characters (such as `^` and `~`, which differ by the case bit) compares equal.
 */
function sameName(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  if (a === b) return true;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}
