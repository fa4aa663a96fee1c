/**
 * The handshake package's extension types, re-exported here so the deflate modules have one import site.
 * (Type-only: the codec does not pull handshake code into a bundle for them.)
 */
export type { ExtensionNegotiator, ExtensionParams } from '@streamsocket/handshake';
