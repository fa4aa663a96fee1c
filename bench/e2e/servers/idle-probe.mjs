// Echo servers for bench/e2e/idle-breakdown.mjs: one per layer of @streamsocket/node, plus ws, in one file so that
// every layer runs the same way. Started as `node --expose-gc idle-probe.bundle.mjs KIND`; prints `PORT n`, then
// answers commands on stdin, one per line:
//   mem        collect garbage (several passes) and print `MEM {json}`: process.memoryUsage() before and after the
//              collection, and the active libuv resources by type (sockets, timers ...)
//   snap PATH  write a heap snapshot to PATH and print `SNAP PATH`
// Kinds (each adds one layer to the previous one, except ws):
//   tcp           net.Socket, socket.pipe(socket)
//   binding       socketChannel(socket): a read loop on its readable writing to its writable
//   session-loop  serve(): the handler reads the WebSocketStream's readable and writes each message back
//   session-pipe  serve(): readable.pipeTo(writable), as bench/e2e's streamsocket-node server
//   session-ws    serve({ webSocket: true }): the WHATWG WebSocket class, onmessage → send (ws's own style)
//   ws            ws 8 WebSocketServer, ws.send(data) per message (with bufferutil when installed)
import net from 'node:net';
import v8 from 'node:v8';
import { createInterface } from 'node:readline';
import { serve, socketChannel } from '@streamsocket/node';

/** Reads each chunk and writes it back, one at a time, until the readable ends or either side fails. */
async function echoLoop(readable, writable) {
  const reader = readable.getReader();
  const writer = writable.getWriter();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
  } catch { /* reset or closed: the probe only measures idle memory */ }
}

const kind = process.argv[2];
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with --expose-gc');

async function listen() {
  switch (kind) {
    case 'tcp': {
      const server = net.createServer({ noDelay: true }, (socket) => {
        socket.on('error', () => socket.destroy());
        socket.pipe(socket);
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      return server.address().port;
    }
    case 'binding': {
      const server = net.createServer({ noDelay: true }, async (socket) => {
        const { readable, writable } = socketChannel(socket);
        await echoLoop(readable, writable);
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      return server.address().port;
    }
    case 'session-loop':
    case 'session-pipe': {
      const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
        const { readable, writable } = await ws.opened;
        if (kind === 'session-pipe') return readable.pipeTo(writable).catch(() => {});
        await echoLoop(readable, writable);
      });
      await server.ready;
      return server.port;
    }
    case 'session-ws': {
      const server = serve({ hostname: '127.0.0.1', port: 0, webSocket: true }, (ws) => {
        ws.binaryType = 'arraybuffer';
        ws.onmessage = (e) => ws.send(e.data);
      });
      await server.ready;
      return server.port;
    }
    case 'ws': {
      const { WebSocketServer } = await import('ws');
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      await new Promise((r) => wss.on('listening', r));
      return wss.address().port;
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

const settle = () => new Promise((r) => setTimeout(r, 50));

async function collect() {
  const raw = process.memoryUsage();
  // Several passes with turns in between: finalizers and weak callbacks (e.g. ArrayBuffer backing stores) run
  // after a collection, and what they free is only returned by the next one.
  for (let i = 0; i < 4; i++) {
    gc();
    await settle();
  }
  const resources = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const spaces = {};
  for (const sp of v8.getHeapSpaceStatistics()) spaces[sp.space_name] = { size: sp.space_size, used: sp.space_used_size };
  return { raw, gc: process.memoryUsage(), resources, spaces };
}

const port = await listen();
console.log(`PORT ${port}`);
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'mem') console.log(`MEM ${JSON.stringify(await collect())}`);
  else if (cmd === 'snap') console.log(`SNAP ${v8.writeHeapSnapshot(arg)}`);
});
rl.on('close', () => process.exit(0));
