/**
 * @streamsocket/cli: the `streamsocket` command (bin/streamsocket.js). The modules are exported for tests and for
 * programs that want the same behaviour in-process (e.g. an echo or broadcast server in a few lines).
 */
export { main } from './main.js';
export { parseCommandLine, parseWsUrl, parseHeader, parseMs, UsageError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_LINGER } from './args.js';
export type { Command, ConnectOptions, ServeOptions, ServeMode } from './args.js';
export { mainHelp, connectHelp, serveHelp } from './help.js';
export { runConnect, EXIT_INTERRUPTED } from './connect.js';
export type { ConnectIo, Dialer } from './connect.js';
export { runServe, SLOW_CLIENT_BACKLOG, SHUTDOWN_GRACE_MS, EXEC_LINGER_MS } from './serve.js';
export type { Listen, ServeIo, ServerHandle } from './serve.js';
export { LineSplitterStream, LineTooLongError, DEFAULT_MAX_LINE, messageToLineBytes, messageToRawBytes, utf8Decoder } from './lines.js';
export { readableFromNode, writableFromNode } from './node-streams.js';
export { describeError, describeClose, isCleanClose, closeCodeName } from './describe.js';
export { dialSession, listenSessions } from './transport.js';
export type { OpenSession, CloseInfo, PeerInfo } from './session-types.js';
export { version } from './version.js';
