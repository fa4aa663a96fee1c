export { HandshakeError, STATUS_TEXT } from './errors.js';
export { HeaderList } from './headers.js';
export type { RequestHead, ResponseHead } from './http11.js';
export {
  HeadReader,
  parseRequestHead,
  parseResponseHead,
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_HEADER_COUNT,
  type HeadLimits,
  type HeadResult,
} from './head-reader.js';
export { computeAccept, WEBSOCKET_GUID } from './accept.js';
export { sha1 } from './sha1.js';
export { base64Encode, base64Decode } from './base64.js';
export { isToken, isFieldValue, hasToken, splitList } from './syntax.js';
export {
  parseExtensions,
  serializeExtensions,
  type ExtensionParams,
  type ExtensionItem,
  type ExtensionNegotiator,
} from './extensions.js';
export { parseProtocols } from './protocols.js';
export {
  validateRequest,
  buildAcceptResponse,
  buildErrorResponse,
  errorResponse,
  type ServerPolicy,
  type AcceptedHandshake,
  type HandshakeResult,
} from './server.js';
export {
  buildClientRequest,
  validateResponse,
  displayUrl,
  type ClientRequestOptions,
  type ClientRequest,
} from './client.js';
