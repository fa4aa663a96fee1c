// The chat on several Node processes behind one port: node:cluster's primary forks WORKERS workers (default 3),
// each serves the chat page and its WebSocket route on the same port (the primary hands connections out in turn),
// and the room is a topic whose messages go through Redis (REDIS_URL, default redis://127.0.0.1:6379) to every
// process. Same page and wire format as examples/chat; `online` counts the members of the sender's process.
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8080 WORKERS=3 node examples/chat-cluster/server.mjs
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { websocketRoute, handleUpgrades } from '@streamsocket/node';
import { RedisBackplane } from '@streamsocket/redis';
import { parseText } from '../chat/room.mjs';

const PROTOCOL = 'chat.v1';
const port = Number(process.env.PORT ?? 8080);
const hostname = '127.0.0.1';

if (cluster.isPrimary) {
  const n = Number(process.env.WORKERS ?? 3);
  let listening = 0;
  for (let i = 0; i < n; i++) cluster.fork();
  cluster.on('listening', (_worker, address) => {
    if (++listening === n) console.log(`chat cluster on http://${hostname}:${address.port}/ (${n} processes)`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.log(`worker ${worker.process.pid} exited (${signal ?? code})`);
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  const page = readFileSync(new URL('../chat/public/index.html', import.meta.url));
  const backplane = new RedisBackplane({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  let seq = 0;
  const chat = websocketRoute({ path: '/chat', protocols: [PROTOCOL], maxMessageSize: 16 * 1024, topics: { backplane } }, async (ws) => {
    const { readable, writable } = await ws.opened;
    const name = `guest-${process.pid}-${++seq}`;
    const send = (event) => chat.publish('room', JSON.stringify({ ...event, online: chat.connections.size }));
    const writer = writable.getWriter();
    await writer.write(JSON.stringify({ type: 'welcome', name, online: chat.connections.size, worker: process.pid }));
    writer.releaseLock();
    ws.subscribe('room');
    send({ type: 'join', name });
    try {
      for await (const data of readable) {
        const text = parseText(data);
        if (text !== null) send({ type: 'message', name, text, at: Date.now() });
      }
    } catch {
      // the connection broke: leaving is all that is left
    } finally {
      send({ type: 'leave', name });
    }
  });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-worker': String(process.pid) });
      res.end(page);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  handleUpgrades(server, (request) => chat.upgrade(request));
  server.listen(port, hostname);
  process.once('SIGTERM', () => {
    chat.close('server shutting down');
    setTimeout(() => {
      server.closeAllConnections();
      server.close(() => void backplane.close().then(() => process.exit(0)));
    }, 200);
  });
}
