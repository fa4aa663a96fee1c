/**
 * Mounting beside any HTTP server: call `upgrade(req, socket, head, options)` from an http/https server's
 * 'upgrade' event. Node's parser has consumed the request head; we re-serialise it (see request-head.ts) and
 * put it back in front of the socket's bytes, followed by `head` (what the client sent after the head, e.g. its
 * first frame), so the session reads the exact stream a standalone server would: the head goes through the
 * handshake package's parser and limits again, refusals are answered by the session on the raw socket, and no
 * byte of `head` is lost.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { accept, type AcceptOptions, type WebSocketStream } from '@streamsocket/session';
import { socketChannel } from './socket-channel.js';
import { serializeIncomingHead } from './request-head.js';

export interface UpgradeOptions extends Omit<AcceptOptions, 'request' | 'rest'> {
  /** Alias of `deflate`: accept permessage-deflate (RFC 7692) when offered. Default false. */
  permessageDeflate?: AcceptOptions['deflate'];
}

/**
 * Takes over the socket of an 'upgrade' event and returns the session; `opened` resolves once the 101 was sent
 * (or rejects after the refusal was answered).
 */
export function upgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array | undefined, options: UpgradeOptions = {}): WebSocketStream {
  const { permessageDeflate, ...rest } = options;
  const a: AcceptOptions = { ...rest };
  if (permessageDeflate !== undefined && a.deflate === undefined) a.deflate = permessageDeflate;
  const s = socket as Socket;
  if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
  const chunks: Uint8Array[] = [serializeIncomingHead(req)];
  if (head && head.byteLength > 0) chunks.push(new Uint8Array(head.buffer, head.byteOffset, head.byteLength));
  return accept(socketChannel(s, { head: chunks }), a);
}
