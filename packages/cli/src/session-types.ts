/**
 * The slice of a WebSocket session the commands use: a WebSocketStream after its `opened` resolved. Kept as an
 * interface so that the commands' logic does not depend on how @streamsocket/node spells its constructors, and so
 * that tests can drive it with an in-memory session.
 */

export interface CloseInfo {
  closeCode: number;
  reason: string;
}

export interface OpenSession {
  readonly protocol: string;
  readonly extensions: string;
  readonly readable: ReadableStream<string | Uint8Array>;
  readonly writable: WritableStream<string | Uint8Array>;
  /** Resolves after the close handshake (clean or not, with the code received); rejects when the connection broke. */
  readonly closed: Promise<CloseInfo>;
  close(closeInfo?: { closeCode?: number; reason?: string }): void;
}

/** How one accepted connection is described in the server's log. */
export interface PeerInfo {
  remote: string;
  path: string;
  protocol: string;
  extensions: string;
}
