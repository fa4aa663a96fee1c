/** The `--help` texts. Kept apart from the parser so that the two can be read side by side against the README. */

export const mainHelp = `Usage: streamsocket <command> [options]

A WebSocket client and server for the terminal (RFC 6455, permessage-deflate).

Commands:
  connect <url>     open a WebSocket: stdin lines are sent, received messages are printed
  serve --port N    run a WebSocket server: --echo, --broadcast or --exec COMMAND
  help [command]    show the help of a command

Options:
  -h, --help        show this help
  -V, --version     print the version

Run 'streamsocket <command> --help' for the options of each command.
`;

export const connectHelp = `Usage: streamsocket connect <url> [options]

Opens a WebSocket to <url> (ws://, wss://; http(s):// is accepted as the same endpoint).
Each line read from stdin is sent as a text message; each message received is written to
stdout followed by a newline. At the end of stdin, once the server has sent nothing for
the --linger time (its last answers may still be on their way), the connection is closed
with 1000.

Options:
  -p, --protocol NAME     offer a subprotocol (repeat for several, preferred first)
  -H, --header 'N: V'     add a request header (repeatable)
  -o, --origin ORIGIN     send an Origin header
  -k, --insecure          wss: accept a certificate that does not verify (self-signed)
      --ping-interval T   send a ping every T (e.g. 30s) while nothing is received
  -b, --binary            send stdin as raw binary chunks; write received payloads raw
  -t, --timeout T         limit for connecting and the opening handshake (default 10s,
                          0 for none)
      --deflate           offer permessage-deflate compression
  -l, --linger T          after the end of stdin, close once nothing was received for T
                          (default 500ms; 0 closes at once)
  -h, --help              show this help

Durations: 500 or 500ms, 30s, 2m.

Exit status: 0 after a clean close (code 1000); 1 on any failure (any other code, 1005 included),
with a one-line reason on stderr (refused handshake and its HTTP status, other close
codes, timeouts, network errors); 2 for a command-line mistake; 130 after Ctrl-C (the
connection is closed with 1000 first; a second Ctrl-C quits at once).

Examples:
  streamsocket connect ws://127.0.0.1:8080/chat
  echo '{"op":"ping"}' | streamsocket connect wss://localhost:8443/ -k -p json
  streamsocket connect ws://127.0.0.1:8080/ -b < image.png > echoed.png
`;

export const serveHelp = `Usage: streamsocket serve --port N (--echo | --broadcast | --exec COMMAND) [options]

Runs a WebSocket server on every path of http://HOST:N/ (wss:// with --tls-cert/--tls-key).

Modes (exactly one):
      --echo              send every message back to its sender
      --broadcast         send every message to every other connected client
  -e, --exec COMMAND      start COMMAND (with /bin/sh -c) for each connection: each
                          received message is a line on its stdin, each line of its
                          stdout is sent; the connection closes when the process exits

Options:
  -p, --port N            port to listen on (0: any free port; the URL is printed)
      --host ADDR         address to listen on (default 127.0.0.1)
  -b, --binary            --exec: pass raw bytes both ways, no line splitting
      --tls-cert FILE     PEM certificate chain: serve wss://
      --tls-key FILE      PEM private key of the certificate
      --protocol NAME     accept this subprotocol if offered (repeatable, preferred first)
      --deflate           accept permessage-deflate compression
      --ping-interval T   ping each idle client every T (e.g. 30s); silent ones are dropped
  -q, --quiet             do not log connection events on stderr
  -h, --help              show this help

The first line on stderr is always 'listening on ws://HOST:PORT/'. Stop with Ctrl-C:
open connections are closed with 1001 (going away).

Examples:
  streamsocket serve --port 8080 --echo
  streamsocket serve --port 8080 --broadcast --quiet
  streamsocket serve --port 8080 --exec 'stdbuf -oL tr a-z A-Z'
  streamsocket serve --port 8443 --echo --tls-cert cert.pem --tls-key key.pem
`;
