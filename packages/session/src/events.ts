/**
 * CloseEvent / MessageEvent / ErrorEvent for runtimes that lack them. Node 20 has
 * MessageEvent but no CloseEvent or ErrorEvent; Deno, Bun and browsers have all
 * three. We use the host's class when present (so `instanceof CloseEvent` works in
 * browser code) and otherwise a spec-shaped Event subclass.
 *
 * The `WebSocket*Event` interfaces are what the WebSocket class's handlers and
 * listeners receive, typed per event name (see WebSocketEventMap); they are
 * declared here rather than taken from the DOM library so that they type-check
 * with or without it.
 */

/**
 * The DOM's EventInit, restated so that these declarations type-check without the DOM library (a Node project
 * with only @types/node has Event but not EventInit).
 */
export interface EventInitLike {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

export interface CloseEventInit extends EventInitLike {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

class CloseEventPolyfill extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

export interface MessageEventLike<T = unknown> extends Event {
  readonly data: T;
  readonly origin: string;
  readonly lastEventId: string;
}

class MessageEventPolyfill<T = unknown> extends Event {
  readonly data: T;
  readonly origin: string;
  readonly lastEventId: string;
  readonly source: null = null;
  readonly ports: readonly unknown[] = [];
  constructor(type: string, init: { data?: T; origin?: string; lastEventId?: string } & EventInitLike = {}) {
    super(type, init);
    this.data = init.data as T;
    this.origin = init.origin ?? '';
    this.lastEventId = init.lastEventId ?? '';
  }
}

type CloseEventCtor = new (type: string, init?: CloseEventInit) => Event & { readonly code: number; readonly reason: string; readonly wasClean: boolean };
type MessageEventCtor = new (type: string, init?: { data?: unknown; origin?: string } & EventInitLike) => MessageEventLike;

const g = globalThis as { CloseEvent?: CloseEventCtor; MessageEvent?: MessageEventCtor };

export const CloseEvent: CloseEventCtor = typeof g.CloseEvent === 'function' ? g.CloseEvent : CloseEventPolyfill;
export const MessageEvent: MessageEventCtor = typeof g.MessageEvent === 'function' ? g.MessageEvent : MessageEventPolyfill;

export interface ErrorEventInit extends EventInitLike {
  message?: string;
  error?: unknown;
}

class ErrorEventPolyfill extends Event {
  readonly message: string;
  readonly error: unknown;
  readonly filename = '';
  readonly lineno = 0;
  readonly colno = 0;
  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.message = init.message ?? '';
    this.error = init.error;
  }
}

type ErrorEventCtor = new (type: string, init?: ErrorEventInit) => Event & { readonly message: string; readonly error: unknown };
const ge = globalThis as { ErrorEvent?: ErrorEventCtor };
export const ErrorEvent: ErrorEventCtor = typeof ge.ErrorEvent === 'function' ? ge.ErrorEvent : ErrorEventPolyfill;

/** A message: `data` is a string (text) or, for binary, an ArrayBuffer or a Blob by the socket's `binaryType`. */
export interface WebSocketMessageEvent extends Event {
  readonly data: string | ArrayBuffer | Blob;
  readonly origin: string;
  readonly lastEventId: string;
}

/** The end of the connection: the close code and reason, and whether the closing handshake completed. */
export interface WebSocketCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/**
 * A failure (dispatched before the `close` event of any unclean end). Unlike a browser's plain Event, it says
 * why: `error` is the underlying error (a refused handshake's HandshakeError with its `status`, a socket error
 * with its `code` such as ECONNREFUSED, a TLS error, a timeout, or the WebSocketError of the lost connection, whose
 * `cause` is the protocol or socket error) and `message` its message.
 */
export interface WebSocketErrorEvent extends Event {
  // Always set by this package's WebSocket; optional in the type so that a WebSocket stays assignable where
  // DOM-shaped handlers are expected (the DOM's `onerror` takes a plain Event).
  readonly message?: string;
  readonly error?: unknown;
}

/** The WebSocket class's events by name, for typed `addEventListener` and `on*` handlers. */
export interface WebSocketEventMap {
  open: Event;
  message: WebSocketMessageEvent;
  error: WebSocketErrorEvent;
  close: WebSocketCloseEvent;
}
