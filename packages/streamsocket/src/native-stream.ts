/**
 * A WebSocketStream over a host's own `WebSocket` class: what a web page has (it cannot open TCP). Same shape as
 * the session's WebSocketStream: `opened` resolves to `{ readable, writable, protocol, extensions }` and
 * `readable` yields strings and Uint8Arrays (as everywhere in streamsocket; the browser's own WebSocketStream
 * yields ArrayBuffers), `closed` resolves to `{ closeCode, reason }` after a clean close and otherwise rejects
 * with a WebSocketError, `close({ closeCode, reason })`.
 *
 * Flow control is what the host class allows: writes wait while `bufferedAmount` is over `sendHighWaterMark`
 * (the writable applies backpressure), but incoming messages cannot be paused: a WebSocket object dispatches
 * each one as it arrives, so the readable queues them.
 */
import { WebSocketError, validateCloseArgs, type CloseInfo, type ReceiveData, type SendData, type WebSocketCloseInfo, type WebSocketOpenInfo } from '@streamsocket/session';

/** The part of the WHATWG WebSocket interface this needs. */
export interface HostWebSocket extends EventTarget {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  readonly extensions: string;
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
}
export type HostWebSocketConstructor = new (url: string, protocols?: string | string[]) => HostWebSocket;

export interface NativeWebSocketStreamOptions {
  protocols?: string[];
  signal?: AbortSignal;
}

/** Bytes the host may hold unsent before write() waits (default 1 MiB). */
export const DEFAULT_SEND_HIGH_WATER_MARK = 1 << 20;
const DRAIN_POLL_MS = 5;

const noop = (): void => {};

export interface NativeWebSocketStream {
  readonly url: string;
  readonly opened: Promise<WebSocketOpenInfo>;
  readonly closed: Promise<CloseInfo>;
  close(info?: WebSocketCloseInfo): void;
}

export type NativeWebSocketStreamConstructor = new (url: string | URL, options?: NativeWebSocketStreamOptions) => NativeWebSocketStream;

/**
 * A WebSocketStream class over `Host` (the page's `WebSocket` by default). `host` names the runtime in errors.
 */
export function createNativeWebSocketStreamClass(
  getHost: () => HostWebSocketConstructor | undefined,
  { sendHighWaterMark = DEFAULT_SEND_HIGH_WATER_MARK }: { sendHighWaterMark?: number } = {},
): NativeWebSocketStreamConstructor {
  return class WebSocketStream implements NativeWebSocketStream {
    readonly url: string;
    readonly opened: Promise<WebSocketOpenInfo>;
    readonly closed: Promise<CloseInfo>;
    readonly #ws: HostWebSocket | null = null;
    #closeRequested = false;

    constructor(url: string | URL, options: NativeWebSocketStreamOptions = {}) {
      const Host = getHost();
      if (Host === undefined) throw new TypeError('streamsocket: this runtime has no WebSocket class to build a WebSocketStream on');
      this.url = String(url);
      let resolveOpened!: (v: WebSocketOpenInfo) => void;
      let rejectOpened!: (e: unknown) => void;
      let resolveClosed!: (v: CloseInfo) => void;
      let rejectClosed!: (e: unknown) => void;
      this.opened = new Promise((res, rej) => { resolveOpened = res; rejectOpened = rej; });
      this.closed = new Promise((res, rej) => { resolveClosed = res; rejectClosed = rej; });
      this.opened.catch(noop);
      this.closed.catch(noop);
      const signal = options.signal;
      if (signal?.aborted) {
        rejectOpened(signal.reason);
        rejectClosed(WebSocketError.internal(`the connection to ${this.url} was aborted before it opened`, 1006, '', signal.reason));
        return;
      }
      // Throws SyntaxError for a bad URL or protocol list, as the host does.
      const ws = new Host(this.url, options.protocols ?? []);
      this.#ws = ws;
      ws.binaryType = 'arraybuffer';
      let opened = false;
      let readController!: ReadableStreamDefaultController<ReceiveData>;
      const readable = new ReadableStream<ReceiveData>({
        start: (c) => { readController = c; },
        cancel: () => { this.close(); },
      });
      const drained = async (): Promise<void> => {
        while (ws.bufferedAmount > sendHighWaterMark && ws.readyState === 1) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      };
      const writable = new WritableStream<SendData>({
        write: async (chunk) => {
          if (ws.readyState !== 1) throw new WebSocketError(`the WebSocket to ${this.url} is not open`);
          ws.send(chunk as string | ArrayBufferView | Blob);
          await drained();
        },
        close: () => { this.close(); },
        abort: () => { this.close(); },
      });
      const onAbort = (): void => {
        if (opened) return;
        rejectOpened(signal!.reason);
        ws.close();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.addEventListener('open', () => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return;
        opened = true;
        resolveOpened({ readable, writable, protocol: ws.protocol, extensions: ws.extensions });
      });
      ws.addEventListener('message', (e) => {
        const data = (e as MessageEvent).data as unknown;
        try {
          readController.enqueue(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
        } catch {
          /* the readable was cancelled: the close it started is under way */
        }
      });
      ws.addEventListener('close', (e) => {
        signal?.removeEventListener('abort', onAbort);
        const { code, reason, wasClean } = e as CloseEvent;
        if (!opened) {
          const err = this.#closeRequested
            ? new WebSocketError('The WebSocket was closed before the connection was established.')
            : WebSocketError.internal(`could not open a WebSocket to ${this.url} (the browser reports no reason; close code ${code})`, 1006, '');
          rejectOpened(signal?.aborted ? signal.reason : err);
          rejectClosed(err);
          return;
        }
        if (wasClean) {
          resolveClosed({ closeCode: code, reason });
          try { readController.close(); } catch { /* already cancelled */ }
        } else {
          const err = WebSocketError.internal(`the WebSocket to ${this.url} closed abnormally (code ${code})`, code, reason);
          rejectClosed(err);
          try { readController.error(err); } catch { /* already cancelled */ }
        }
      });
    }

    /** Starts the closing handshake (or aborts the opening). Same validation as WebSocket.close(). */
    close(info: WebSocketCloseInfo = {}): void {
      const { code, reason } = validateCloseArgs(info.closeCode, info.reason);
      this.#closeRequested = true;
      const ws = this.#ws;
      if (!ws || ws.readyState >= 2) return;
      if (code === null) ws.close();
      else ws.close(code, reason);
    }
  };
}
