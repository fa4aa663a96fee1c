/**
 * `streamsocket serve`: a WebSocket server whose behaviour per connection is one of three small pipelines.
 *
 * - echo: the session's readable piped into its own writable. Backpressure is the pipe's: a client that stops
 *   reading its echoes stops being read.
 * - broadcast: each message is written to every other client. A slow client must not stall the room, and must
 *   not grow the server's memory either, so writes are not awaited but each recipient's backlog is bounded: past
 *   `SLOW_CLIENT_BACKLOG` bytes beyond its high-water mark it is closed with 1013 (try again later).
 * - exec: each connection gets its own process (`/bin/sh -c COMMAND`); messages are lines on its stdin, lines of
 *   its stdout are messages (raw chunks both ways with --binary). Stream pipelines again: a process that does not
 *   read its stdin stops the socket being read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ServeOptions } from './args.js';
import type { CloseInfo, OpenSession, PeerInfo } from './session-types.js';
import { LineSplitterStream, LineTooLongError, messageToLineBytes, messageToRawBytes, utf8Decoder } from './lines.js';
import { readableFromNode, writableFromNode } from './node-streams.js';
import { describeError, closeCodeName } from './describe.js';

/** Bytes a broadcast recipient may lag behind (beyond its writable's high-water mark) before it is dropped. */
export const SLOW_CLIENT_BACKLOG = 4 * 1024 * 1024;
/** How long open connections get to finish their close handshake when the server stops. */
export const SHUTDOWN_GRACE_MS = 7000;
/** How long an --exec process may outlive its connection (after its stdin was closed) before SIGTERM. */
export const EXEC_LINGER_MS = 2000;

export interface ServerHandle {
  /** ws://host:port/ (or wss:) as a client would type it. */
  url: string;
  /** Stops accepting connections, closes open ones with 1001, resolves when they are gone (bounded). */
  close(): Promise<void>;
}

export type Listen = (o: ServeOptions, onSession: (session: OpenSession, peer: PeerInfo) => void) => Promise<ServerHandle>;

export interface ServeIo {
  /** One line to stderr (no trailing newline). */
  log(line: string): void;
  /** Aborts when the user asks the server to stop (Ctrl-C, SIGTERM). */
  stop: AbortSignal;
}

interface Client {
  id: number;
  session: OpenSession;
  writer: WritableStreamDefaultWriter<string | Uint8Array> | null;
}

/** Runs the server until `io.stop` aborts; resolves with the exit status. */
export async function runServe(o: ServeOptions, io: ServeIo, listen: Listen): Promise<number> {
  const clients = new Map<number, Client>();
  let nextId = 1;
  const event = (line: string): void => { if (!o.quiet) io.log(line); };

  const onSession = (session: OpenSession, peer: PeerInfo): void => {
    const id = nextId++;
    const client: Client = { id, session, writer: null };
    clients.set(id, client);
    const details = [peer.protocol && `protocol ${peer.protocol}`, peer.extensions && `extensions ${peer.extensions}`].filter(Boolean).join(', ');
    event(`[#${id}] open ${peer.remote} ${peer.path}${details ? ` (${details})` : ''} (${clients.size} connected)`);
    session.closed.then(
      (info: CloseInfo) => event(`[#${id}] closed ${info.closeCode} (${closeCodeName(info.closeCode)})${info.reason ? `: ${info.reason}` : ''}`),
      (e: unknown) => event(`[#${id}] lost: ${describeError(e)}`),
    ).finally(() => {
      clients.delete(id);
    });
    const mode = o.mode;
    const run = mode.kind === 'echo' ? echo(client)
      : mode.kind === 'broadcast' ? broadcast(client, clients, event)
      : execBridge(client, mode.command, o.binary, event);
    run.catch((e: unknown) => {
      event(`[#${id}] error: ${describeError(e)}`);
      session.close({ closeCode: 1011, reason: 'server error' });
    });
  };

  let server: ServerHandle;
  try {
    server = await listen(o, onSession);
  } catch (e) {
    io.log(`streamsocket: cannot listen on ${o.host}:${o.port}: ${describeError(e)}`);
    return 1;
  }
  // Always printed, even with --quiet: with --port 0 it is the only way to learn the port.
  io.log(`listening on ${server.url}`);

  await new Promise<void>((resolve) => {
    if (io.stop.aborted) resolve();
    else io.stop.addEventListener('abort', () => resolve(), { once: true });
  });
  event(`shutting down (${clients.size} connected)`);
  await Promise.race([server.close(), new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref())]);
  return 0;
}

async function echo(c: Client): Promise<void> {
  // preventClose: the close handshake belongs to the session (the readable ends because a close frame came).
  await c.session.readable.pipeTo(c.session.writable, { preventClose: true }).catch(sessionFailure);
}

async function broadcast(c: Client, clients: Map<number, Client>, event: (l: string) => void): Promise<void> {
  c.writer = c.session.writable.getWriter();
  const reader = c.session.readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const other of clients.values()) {
        if (other === c || !other.writer) continue;
        const desired = other.writer.desiredSize;
        if (desired !== null && desired < -SLOW_CLIENT_BACKLOG) {
          event(`[#${other.id}] too slow: ${-desired} bytes behind, disconnecting`);
          other.writer = null;
          other.session.close({ closeCode: 1013, reason: 'too slow' });
          continue;
        }
        // Not awaited: one recipient's backpressure must not hold the others back; the bound above holds memory.
        other.writer.write(value).catch(() => {});
      }
    }
  } catch {
    sessionFailure();
  } finally {
    reader.releaseLock();
  }
}

async function execBridge(c: Client, command: string, binary: boolean, event: (l: string) => void): Promise<void> {
  const child: ChildProcess = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'] });
  event(`[#${c.id}] started pid ${child.pid ?? '?'}: ${command}`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (e) => { event(`[#${c.id}] cannot start: ${e.message}`); resolve({ code: 127, signal: null }); });
  });
  const stdin = writableFromNode(child.stdin!);
  const stdout = readableFromNode(child.stdout!);

  // socket → process. When the client closes, the process sees the end of its stdin.
  const toProcess = c.session.readable
    .pipeThrough(new TransformStream<string | Uint8Array, Uint8Array>({
      transform(data, controller) {
        if (binary) controller.enqueue(messageToRawBytes(data));
        else for (const part of messageToLineBytes(data)) controller.enqueue(part);
      },
    }))
    .pipeTo(stdin)
    .catch(() => { child.stdin?.destroy(); });

  // process → socket. preventClose: the session is closed below, with a code that says how the process ended.
  const source: ReadableStream<string | Uint8Array> = binary
    ? stdout
    : stdout.pipeThrough(utf8Decoder()).pipeThrough(new LineSplitterStream());
  const fromProcess = source.pipeTo(c.session.writable, { preventClose: true }).catch((e: unknown) => {
    if (e instanceof LineTooLongError) {
      event(`[#${c.id}] process output: ${e.message}`);
      c.session.close({ closeCode: 1011, reason: 'process output line too long' });
      child.kill('SIGTERM');
    }
  });

  // The connection ending first: give the process a moment to finish with its stdin closed, then stop it.
  c.session.closed.catch(() => {}).finally(() => {
    const t = setTimeout(() => child.kill('SIGTERM'), EXEC_LINGER_MS);
    t.unref();
    void exited.then(() => clearTimeout(t));
  });

  const [result] = await Promise.all([exited, fromProcess]);
  void toProcess;
  event(`[#${c.id}] process exited ${result.signal ? `on ${result.signal}` : `with status ${result.code}`}`);
  if (result.code === 0) c.session.close({ closeCode: 1000 });
  else c.session.close({ closeCode: 1011, reason: result.signal ? `process killed by ${result.signal}` : `process exited with status ${result.code}` });
}

/**
 * A pipe into or out of a session fails only when the session itself fails (reset, protocol error), and the
 * session reports that through `closed`: nothing more to say here.
 */
function sessionFailure(): void {}
