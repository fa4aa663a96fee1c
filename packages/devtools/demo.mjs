// The main job (`npm start`): the chat example, live. bootstrap.mjs has installed the workspace and built every
// package by the time main() runs; this starts examples/chat on 127.0.0.1, says what to open and what to do, and
// keeps serving until Ctrl-C, when every open connection is closed with 1001 (going away).
import { relative } from 'node:path';
import { root } from './workspace.mjs';

const DEFAULT_PORT = 8080;

export async function main() {
  const { startChat, PROTOCOL } = await import('../../examples/chat/server.mjs');
  const time = () => new Date().toTimeString().slice(0, 8);
  const log = (line) => console.log(`  ${time()}  ${line}`);
  const wanted = Number(process.env.PORT ?? DEFAULT_PORT);
  let chat;
  try {
    chat = await startChat({ hostname: '127.0.0.1', port: wanted, log });
  } catch (e) {
    if (e?.code !== 'EADDRINUSE') throw e;
    // Something else has the port: any free one will do, the URL below says which.
    chat = await startChat({ hostname: '127.0.0.1', port: 0, log });
  }
  const cli = relative(process.cwd(), `${root}/packages/cli/bin/streamsocket.js`) || 'packages/cli/bin/streamsocket.js';
  console.log(`
streamsocket chat is running: WebSocket (RFC 6455) served by @streamsocket/node

  Open ${chat.url} in two browser tabs (or two browsers) and type in either one:
  each message goes through the streamsocket server to every open tab.

  Join from a terminal too (each line you type is a message, every message is printed):
    node ${cli} connect ${chat.wsUrl} --protocol ${PROTOCOL}

  Ctrl-C stops the server.
`);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(`\n  ${time()}  stopping: closing ${chat.room.size} connection(s) with 1001 (going away)`);
  await chat.close();
}
