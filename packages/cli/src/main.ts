/**
 * The process side of `streamsocket`: parses argv, binds stdio and signals, runs a command and returns the exit
 * status. Everything that can be decided without a process lives in the modules it calls.
 */
import { parseCommandLine, UsageError } from './args.js';
import { connectHelp, serveHelp } from './help.js';
import { runConnect } from './connect.js';
import { runServe } from './serve.js';
import { readableFromNode, writableFromNode } from './node-streams.js';
import { dialSession, listenSessions } from './transport.js';
import { version } from './version.js';

const err = (line: string): void => { process.stderr.write(line + '\n'); };

export async function main(argv: readonly string[]): Promise<number> {
  let cmd;
  try {
    cmd = parseCommandLine(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`streamsocket: ${e.message}`);
    err(e.command ? `Run 'streamsocket ${e.command} --help' for its options.` : `Run 'streamsocket --help' for the commands.`);
    return 2;
  }
  switch (cmd.command) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'version':
      process.stdout.write(`streamsocket ${version}\n`);
      return 0;
    case 'connect': {
      // stdout closed by the reader (`| head -1`) must end the command quietly, not crash it.
      process.stdout.on('error', () => {});
      // The first Ctrl-C closes the connection properly; a second one (handler gone) ends the process at once.
      const interrupt = new AbortController();
      const onSignal = (): void => interrupt.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const code = await runConnect(cmd.options, {
        stdin: readableFromNode(process.stdin),
        stdout: writableFromNode(process.stdout, { end: false }),
        error: (line) => err(`streamsocket: ${line}`),
        interrupt: interrupt.signal,
      }, dialSession);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // stdin may still be open (the server closed first): nothing else is pending once the command returned.
      process.stdin.destroy();
      return code;
    }
    case 'serve': {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        return await runServe(cmd.options, { log: err, stop: stop.signal }, listenSessions);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
  }
}

export { connectHelp, serveHelp };
