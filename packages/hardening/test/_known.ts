/**
 * Known bugs in other packages, found by this suite. Each is a real test of
 * the correct behaviour. While the owner has not fixed it, a failure prints "KNOWN BUG (open)" and does not fail
 * the run (the repo rule: never commit a failing state); STREAMSOCKET_KNOWN_BUGS=strict makes it fail, which is
 * how to check a fix. Once it passes, the helper prints "fixed": then move the test to a normal test().
 */
import type { Test } from 'uvu';

export const STRICT = (process.env.STREAMSOCKET_KNOWN_BUGS ?? '') === 'strict';

export function knownBug(t: Test, name: string, fn: () => Promise<void> | void): void {
  t(`known bug: ${name}`, async () => {
    try {
      await fn();
      console.log(`[known bug] FIXED (now passes): ${name}`);
    } catch (e) {
      if (STRICT) throw e;
      console.log(`[known bug] OPEN: ${name}\n    ${String(e instanceof Error ? e.message : e).split('\n')[0]}`);
    }
  });
}
