/**
 * The permessage-deflate negotiator (RFC 7692 section 7.1) in the shape the handshake package drives:
 * `offer()` on a client, `negotiate()` on a server, `confirm()` on a client reading the server's answer.
 */
import { HandshakeError } from '@streamsocket/handshake';
import type { ExtensionNegotiator, ExtensionParams } from './handshake-types.js';
import {
  CLIENT_MAX_WINDOW_BITS, CLIENT_NO_CONTEXT_TAKEOVER, SERVER_MAX_WINDOW_BITS, SERVER_NO_CONTEXT_TAKEOVER,
  ParamError, checkWindowOption, parseDeflateParams, type DeflateParams,
} from './params.js';
import { MAX_WINDOW_BITS, type DeflateAgreement, type DeflateOptions } from './types.js';
import { getZlib } from './zlib.js';

export const EXTENSION_NAME = 'permessage-deflate';

/**
 * Server side: accept one offer, or return null to decline it. The response states every parameter the agreement
 * depends on, so the client never has to infer a default.
 */
export function answerOffer(offer: DeflateParams, o: DeflateOptions): { response: ExtensionParams; agreement: DeflateAgreement } | null {
  // Server's own window: the smaller of what the client allows and what we are configured to use.
  const serverBits = Math.min(offer.serverMaxWindowBits ?? MAX_WINDOW_BITS, o.serverMaxWindowBits ?? MAX_WINDOW_BITS);

  // Client's window: we can only lower it when the client said it supports the parameter.
  const cap = typeof o.clientMaxWindowBits === 'number' ? o.clientMaxWindowBits : undefined;
  let clientBits: number;
  if (offer.clientMaxWindowBits === undefined) {
    // We require a smaller window than the client can be told to use: decline (the cap is a memory bound).
    if (cap !== undefined && cap < MAX_WINDOW_BITS) return null;
    clientBits = MAX_WINDOW_BITS;
  } else {
    const offered = offer.clientMaxWindowBits === true ? MAX_WINDOW_BITS : offer.clientMaxWindowBits;
    clientBits = Math.min(offered, cap ?? MAX_WINDOW_BITS);
  }

  // A server may always add server_no_context_takeover (7.1.1.1) and client_no_context_takeover (7.1.1.2). When
  // the client hints that it resets anyway we accept the hint: it costs us nothing and lets our inflater keep no
  // state between messages (see README "Memory").
  const serverNoContextTakeover = offer.serverNoContextTakeover || o.serverNoContextTakeover === true;
  const clientNoContextTakeover = offer.clientNoContextTakeover || o.clientNoContextTakeover === true;

  const response: ExtensionParams = {};
  if (serverNoContextTakeover) response[SERVER_NO_CONTEXT_TAKEOVER] = true;
  if (clientNoContextTakeover) response[CLIENT_NO_CONTEXT_TAKEOVER] = true;
  if (offer.serverMaxWindowBits !== undefined || serverBits < MAX_WINDOW_BITS) response[SERVER_MAX_WINDOW_BITS] = String(serverBits);
  if (offer.clientMaxWindowBits !== undefined && (offer.clientMaxWindowBits !== true || clientBits < MAX_WINDOW_BITS)) {
    response[CLIENT_MAX_WINDOW_BITS] = String(clientBits);
  }
  return {
    response,
    agreement: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits: serverBits, clientMaxWindowBits: clientBits },
  };
}

/** Client side: the one offer we send, built from the options. */
export function buildOffer(o: DeflateOptions): ExtensionParams {
  const p: ExtensionParams = {};
  if (o.serverNoContextTakeover) p[SERVER_NO_CONTEXT_TAKEOVER] = true;
  if (o.clientNoContextTakeover) p[CLIENT_NO_CONTEXT_TAKEOVER] = true;
  if (o.serverMaxWindowBits !== undefined) p[SERVER_MAX_WINDOW_BITS] = String(o.serverMaxWindowBits);
  // Always advertise client_max_window_bits: it only tells the server it may lower our window.
  p[CLIENT_MAX_WINDOW_BITS] = typeof o.clientMaxWindowBits === 'number' ? String(o.clientMaxWindowBits) : true;
  return p;
}

/** Client side: checks the server's response against our offer (RFC 7692 7.1.1, 7.1.2). Throws ParamError. */
export function checkResponse(r: DeflateParams, o: DeflateOptions): DeflateAgreement {
  // A server accepts server_no_context_takeover / server_max_window_bits only by echoing them (7.1.1.1, 7.1.2.1).
  if (o.serverNoContextTakeover && !r.serverNoContextTakeover) throw new ParamError('server ignored server_no_context_takeover');
  if (o.serverMaxWindowBits !== undefined) {
    if (r.serverMaxWindowBits === undefined) throw new ParamError('server ignored server_max_window_bits');
    if (r.serverMaxWindowBits > o.serverMaxWindowBits) throw new ParamError('server_max_window_bits larger than offered');
  }
  let clientBits = typeof o.clientMaxWindowBits === 'number' ? o.clientMaxWindowBits : MAX_WINDOW_BITS;
  if (r.clientMaxWindowBits !== undefined) {
    // parseDeflateParams(…, 'response') guarantees a number here.
    const v = r.clientMaxWindowBits as number;
    if (v > clientBits) throw new ParamError('client_max_window_bits larger than offered');
    clientBits = v;
  }
  return {
    serverNoContextTakeover: r.serverNoContextTakeover,
    clientNoContextTakeover: r.clientNoContextTakeover || o.clientNoContextTakeover === true,
    serverMaxWindowBits: r.serverMaxWindowBits ?? MAX_WINDOW_BITS,
    clientMaxWindowBits: clientBits,
  };
}

function validateOptions(o: DeflateOptions): void {
  checkWindowOption('serverMaxWindowBits', o.serverMaxWindowBits, false);
  checkWindowOption('clientMaxWindowBits', o.clientMaxWindowBits, true);
  if (o.threshold !== undefined && !(o.threshold >= 0)) throw new TypeError('threshold must be >= 0');
  if (o.level !== undefined && !(Number.isInteger(o.level) && o.level >= 0 && o.level <= 9)) throw new TypeError('level must be an integer 0..9');
  if (o.memLevel !== undefined && !(Number.isInteger(o.memLevel) && o.memLevel >= 1 && o.memLevel <= 9)) throw new TypeError('memLevel must be an integer 1..9');
}

/**
 * The permessage-deflate extension for `ServerPolicy.extensions` / `ClientRequestOptions.extensions`.
 * Where zlib is missing (`deflateAvailable` false) it offers nothing and declines everything.
 * Throws TypeError for out-of-range options.
 */
export function permessageDeflate(o: DeflateOptions = {}): ExtensionNegotiator<DeflateAgreement> {
  validateOptions(o);
  const opts = { ...o };
  return {
    name: EXTENSION_NAME,
    offer(): ExtensionParams[] {
      return getZlib() ? [buildOffer(opts)] : [];
    },
    negotiate(offers: ExtensionParams[]) {
      if (!getZlib()) return null;
      for (const params of offers) {
        let parsed: DeflateParams;
        try {
          parsed = parseDeflateParams(params, 'offer');
        } catch (e) {
          if (e instanceof ParamError) continue; // RFC 7692 7.1: decline this offer, try the next one.
          throw e;
        }
        const answer = answerOffer(parsed, opts);
        if (answer) return answer;
      }
      return null;
    },
    confirm(response: ExtensionParams): DeflateAgreement {
      try {
        if (!getZlib()) throw new ParamError('permessage-deflate was not offered');
        return checkResponse(parseDeflateParams(response, 'response'), opts);
      } catch (e) {
        if (e instanceof ParamError) throw new HandshakeError(101, 'BAD_EXTENSION_RESPONSE', `permessage-deflate: ${e.message}`);
        throw e;
      }
    },
  };
}
