/** Ambient declarations of the Bun APIs proxying adds (checked against Bun 1.4.5 at runtime); see types.d.ts. */
declare namespace Bun {
  /** The process environment (the same object as process.env in Bun). */
  const env: Record<string, string | undefined>;
}
