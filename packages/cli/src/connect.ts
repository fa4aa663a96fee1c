/**
 * `streamsocket connect <url>`: stdin → messages, messages → stdout.
 *
 * Both directions are stream pipelines, so a large input or a fast server never accumulates in memory: stdin is
 * read only as fast as the socket takes messages, and the socket is read only as fast as stdout takes bytes.
 *
 * The exit status is the contract scripts rely on: 0 after a clean close (code 1000, whichever side started it),
 * 1 with a one-line reason for everything else (including 1005, a close without a code).
 */
import type { ConnectOptions } from './args.js';
import type { CloseInfo, OpenSession } from './session-types.js';
import { LineSplitterStream, messageToLineBytes, messageToRawBytes, utf8Decoder } from './lines.js';
import { describeError, describeClose, isCleanClose } from './describe.js';

export interface ConnectIo {
  stdin: ReadableStream<Uint8Array>;
  stdout: WritableStream<Uint8Array>;
  /** One line of diagnostics (no trailing newline). */
  error(line: string): void;
  /** Aborts on Ctrl-C: the connection is closed normally (1000) and the command exits with 130. */
  interrupt?: AbortSignal;
}

/** Exit status after Ctrl-C, as shells report a process ended by SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

export type Dialer = (o: ConnectOptions, signal: AbortSignal) => Promise<OpenSession>;

/** Runs the command; resolves with the exit status. Never rejects. */
export async function runConnect(o: ConnectOptions, io: ConnectIo, dial: Dialer): Promise<number> {
  let session: OpenSession;
  // --timeout 0: no limit (an AbortSignal.timeout(0) would fire at once).
  const timeout = o.timeout > 0 ? AbortSignal.timeout(o.timeout) : new AbortController().signal;
  try {
    session = await dial(o, timeout);
  } catch (e) {
    io.error(timeout.aborted ? `timed out after ${fmtMs(o.timeout)} connecting to ${o.url.href}` : describeError(e, o.url));
    return 1;
  }

  // Whatever fails on our side before the session finished is the failure to report (stdout gone, stdin
  // unreadable, a line over the limit); once the session has finished, pipes failing is just the teardown.
  let settled = false;
  let local: unknown = null;
  const noteLocal = (e: unknown): void => {
    if (settled || isAbort(e) || local) return;
    local = e;
    session.close({ closeCode: 1001, reason: 'client failed' });
  };

  // Incoming: every message, in order, to stdout. Ends when the session's readable ends (close) or errors.
  let lastReceived = Date.now();
  const incoming = session.readable
    .pipeThrough(new MessagesToBytes(o.binary, () => { lastReceived = Date.now(); }))
    .pipeTo(io.stdout)
    .catch(noteLocal);

  // Outgoing: stdin, as lines or raw chunks; at its end, a normal close once the server has been quiet for
  // `linger` ms. Closing at once would lose the answers still on their way: a server that receives our close
  // answers it as soon as it can (RFC 6455 5.5.1), and replies it had not sent yet are never sent. If the server
  // closes first, reading stdin stops: there is nobody to send to any more.
  const stopStdin = new AbortController();
  const source: ReadableStream<string | Uint8Array> = o.binary
    ? io.stdin
    : io.stdin.pipeThrough(utf8Decoder()).pipeThrough(new LineSplitterStream());
  const outgoing = source
    .pipeTo(session.writable, { preventClose: true, preventAbort: true, signal: stopStdin.signal })
    .then(async () => {
      for (;;) {
        const quietFor = Date.now() - lastReceived;
        if (settled || quietFor >= o.linger) break;
        await new Promise((r) => setTimeout(r, o.linger - quietFor));
      }
      if (!settled) session.close({ closeCode: 1000 });
    }, noteLocal);

  let interrupted = false;
  const onInterrupt = (): void => {
    interrupted = true;
    if (!settled) session.close({ closeCode: 1000, reason: 'interrupted' });
  };
  if (io.interrupt?.aborted) onInterrupt();
  else io.interrupt?.addEventListener('abort', onInterrupt, { once: true });

  let info: CloseInfo | null = null;
  let broken: unknown = null;
  try {
    info = await session.closed;
  } catch (e) {
    broken = e;
  }
  settled = true;
  io.interrupt?.removeEventListener('abort', onInterrupt);
  stopStdin.abort();
  await Promise.all([outgoing, incoming]);
  if (interrupted) return EXIT_INTERRUPTED;
  if (local) {
    io.error(describeError(local, o.url));
    return 1;
  }
  if (broken) {
    io.error(describeError(broken, o.url));
    return 1;
  }
  if (info && !isCleanClose(info)) {
    io.error(describeClose(info));
    return 1;
  }
  return 0;
}

function isAbort(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: string }).name === 'AbortError';
}

function fmtMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Messages → stdout bytes: one line per message, or the raw payloads with --binary. */
class MessagesToBytes extends TransformStream<string | Uint8Array, Uint8Array> {
  constructor(binary: boolean, onMessage: () => void) {
    super({
      transform(data, controller) {
        onMessage();
        if (binary) controller.enqueue(messageToRawBytes(data));
        else for (const part of messageToLineBytes(data)) controller.enqueue(part);
      },
    });
  }
}
