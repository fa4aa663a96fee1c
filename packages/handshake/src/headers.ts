/**
 * Ordered, case-insensitive header collection. Keeps the original casing and
 * order of every field line (for logging/proxying) and indexes values by
 * lower-cased name for O(1) look-ups.
 */
export class HeaderList {
  private readonly list: Array<[string, string]> = [];
  private readonly index = new Map<string, string[]>();

  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries) for (const [n, v] of entries) this.append(n, v);
  }

  /** Adds a field line. No validation: the parser and the builders validate before calling this. */
  append(name: string, value: string): void {
    this.list.push([name, value]);
    const key = name.toLowerCase();
    const values = this.index.get(key);
    if (values) values.push(value);
    else this.index.set(key, [value]);
  }

  /**
   * The field value; if the field occurs on several lines the values are joined
   * with ', ' (RFC 9110 section 5.3 list combination). Undefined if absent.
   */
  get(name: string): string | undefined {
    const values = this.index.get(name.toLowerCase());
    if (!values) return undefined;
    return values.length === 1 ? values[0] : values.join(', ');
  }

  /** Every value of the field, one per field line, in order. */
  getAll(name: string): string[] {
    const values = this.index.get(name.toLowerCase());
    return values ? values.slice() : [];
  }

  has(name: string): boolean {
    return this.index.has(name.toLowerCase());
  }

  /** Number of field lines with this name. */
  count(name: string): number {
    return this.index.get(name.toLowerCase())?.length ?? 0;
  }

  /** All field lines, original casing, in order. */
  entries(): Array<[string, string]> {
    return this.list.map(([n, v]) => [n, v]);
  }

  /** Number of field lines. */
  get size(): number {
    return this.list.length;
  }
}
