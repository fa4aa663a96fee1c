/**
 * CloseEvent / MessageEvent for runtimes that lack them. Node 20 has
 * MessageEvent but no CloseEvent; Deno, Bun and browsers have both. We use the
 * host's class when present (so `instanceof CloseEvent` works in browser code)
 * and otherwise a spec-shaped Event subclass.
 */

export interface CloseEventInit extends EventInit {
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
  constructor(type: string, init: { data?: T; origin?: string; lastEventId?: string } & EventInit = {}) {
    super(type, init);
    this.data = init.data as T;
    this.origin = init.origin ?? '';
    this.lastEventId = init.lastEventId ?? '';
  }
}

type CloseEventCtor = new (type: string, init?: CloseEventInit) => Event & { readonly code: number; readonly reason: string; readonly wasClean: boolean };
type MessageEventCtor = new (type: string, init?: { data?: unknown; origin?: string } & EventInit) => MessageEventLike;

const g = globalThis as { CloseEvent?: CloseEventCtor; MessageEvent?: MessageEventCtor };

export const CloseEvent: CloseEventCtor = typeof g.CloseEvent === 'function' ? g.CloseEvent : CloseEventPolyfill;
export const MessageEvent: MessageEventCtor = typeof g.MessageEvent === 'function' ? g.MessageEvent : MessageEventPolyfill;
