import * as assert from 'uvu/assert';
import { HandshakeError } from '../src/index.js';

/** Asserts fn throws a HandshakeError with this status and code. */
export function throwsCode(fn: () => unknown, status: number, code: string): HandshakeError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof HandshakeError)) throw e;
    assert.is(e.code, code, `code (message: ${e.message})`);
    assert.is(e.status, status, `status for ${code}`);
    return e;
  }
  return assert.unreachable(`expected HandshakeError ${code}`) as never;
}
