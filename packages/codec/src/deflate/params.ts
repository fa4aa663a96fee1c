/**
 * Strict reading of permessage-deflate extension parameters (RFC 7692 section 7.1): exactly the four known names,
 * each at most once, with the value syntax the RFC gives. Pure functions; the negotiator turns a `null`/thrown
 * result into "decline this offer" (server) or a HandshakeError (client).
 */
import type { ExtensionParams } from './handshake-types.js';
import { MAX_WINDOW_BITS, MIN_WINDOW_BITS } from './types.js';

export const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
export const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
export const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
export const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

const KNOWN = new Set([SERVER_NO_CONTEXT_TAKEOVER, CLIENT_NO_CONTEXT_TAKEOVER, SERVER_MAX_WINDOW_BITS, CLIENT_MAX_WINDOW_BITS]);

/** One offer or response, validated: `undefined` = parameter absent, `true` = present without a value. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
}

/** Why a parameter list is not acceptable; the message never echoes peer bytes (it may reach a response body). */
export class ParamError extends Error {
  override readonly name = 'ParamError';
}

/** RFC 7692 7.1.2.1: "1*DIGIT" without leading zeros, 8..15. The header parser has already removed quotes. */
function windowBits(name: string, v: string | true): number {
  if (v === true || !/^(?:[89]|1[0-5])$/.test(v)) throw new ParamError(`${name} must be an integer 8..15`);
  return Number(v);
}

function flag(name: string, v: string | true): true {
  if (v !== true) throw new ParamError(`${name} takes no value`);
  return true;
}

/**
 * Validates one parameter list. `side` says who wrote it: in an offer (from a client) `client_max_window_bits` may
 * come without a value; in a response every window parameter needs one. Throws ParamError.
 */
export function parseDeflateParams(params: ExtensionParams, side: 'offer' | 'response'): DeflateParams {
  const out: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const name of Object.keys(params)) {
    const v = params[name] as unknown;
    if (!KNOWN.has(name)) throw new ParamError('unknown permessage-deflate parameter');
    // A header parser that keeps repeated parameters hands them over as an array.
    if (Array.isArray(v)) throw new ParamError(`${name} given more than once`);
    if (v !== true && typeof v !== 'string') throw new ParamError(`${name} has an invalid value`);
    switch (name) {
      case SERVER_NO_CONTEXT_TAKEOVER: out.serverNoContextTakeover = flag(name, v); break;
      case CLIENT_NO_CONTEXT_TAKEOVER: out.clientNoContextTakeover = flag(name, v); break;
      case SERVER_MAX_WINDOW_BITS: out.serverMaxWindowBits = windowBits(name, v); break;
      default: out.clientMaxWindowBits = side === 'offer' && v === true ? true : windowBits(name, v); break;
    }
  }
  return out;
}

/** Throws a TypeError for option values outside the RFC's ranges: a programming error, not a peer's. */
export function checkWindowOption(name: string, v: number | true | undefined, allowTrue: boolean): void {
  if (v === undefined || (v === true && allowTrue)) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_WINDOW_BITS || v > MAX_WINDOW_BITS) {
    throw new TypeError(`${name} must be an integer ${MIN_WINDOW_BITS}..${MAX_WINDOW_BITS}${allowTrue ? ' or true' : ''}`);
  }
}
