/**
 * The error for a feature the running runtime cannot have (a server in a browser page, Node's `upgrade()` in
 * Deno): thrown when the feature is used, never at import, so one `import { ... } from 'streamsocket'` line works
 * everywhere and only the call that cannot work fails.
 */
export type RuntimeName = 'node' | 'deno' | 'bun' | 'workerd' | 'browser';

const runtimeLabels: Record<RuntimeName, string> = {
  node: 'Node.js',
  deno: 'Deno',
  bun: 'Bun',
  workerd: 'workerd (Cloudflare Workers)',
  browser: 'a browser',
};

export class UnsupportedFeatureError extends Error {
  /** The runtime this build of `streamsocket` was resolved for (its export condition). */
  readonly runtime: RuntimeName;
  /** What was called, e.g. `serve()`. */
  readonly feature: string;

  constructor(runtime: RuntimeName, feature: string, why: string) {
    super(`streamsocket: ${feature} is not available in ${runtimeLabels[runtime]}: ${why}`);
    this.name = 'UnsupportedFeatureError';
    this.runtime = runtime;
    this.feature = feature;
  }
}

/** A function that throws UnsupportedFeatureError when called (typed like the feature it stands for). */
export function unavailable<F extends (...args: never[]) => unknown>(runtime: RuntimeName, feature: string, why: string): F {
  const f = (): never => {
    throw new UnsupportedFeatureError(runtime, feature, why);
  };
  return f as unknown as F;
}
