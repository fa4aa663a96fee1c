/**
 * permessage-deflate (RFC 7692) for the codec: the handshake negotiator and the per-connection compressor.
 * Works wherever `node:zlib` exists (Node, Deno, Bun); elsewhere `deflateAvailable` is false and the negotiator
 * neither offers nor accepts the extension. Design notes: packages/codec/README-deflate.md.
 */
export type { DeflateAgreement, DeflateOptions, PerMessageDeflateOptions } from './types.js';
export { PerMessageDeflate } from './per-message.js';
export { permessageDeflate } from './negotiator.js';
export { deflateAvailable, loadZlib } from './zlib.js';
