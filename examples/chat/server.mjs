// The chat server: one Node HTTP server serves the page at / and hands WebSocket upgrades on /chat to
// @streamsocket/node. Run it with `node examples/chat/server.mjs` (PORT=... to choose the port), or import
// startChat() (the repository's `npm start` does).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { upgrade } from '@streamsocket/node';
import { Room } from './room.mjs';

const page = readFileSync(new URL('./public/index.html', import.meta.url));

/** The subprotocol of this chat; the page asks for it, and the server speaks nothing else. */
export const PROTOCOL = 'chat.v1';

/**
 * Starts the server; resolves once it listens with `{ url, wsUrl, port, room, close() }`. `log` receives one line
 * per event (joins, leaves, refusals).
 */
export async function startChat({ hostname = '127.0.0.1', port = 0, log = () => {} } = {}) {
  const room = new Room({ log });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // The page runs only its own inline module and talks only to this server.
        'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : page);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  server.on('upgrade', (req, socket, head) => {
    const ws = upgrade(req, socket, head, {
      path: '/chat',
      protocols: [PROTOCOL],
      // Browsers always send Origin: accept only pages from this server (no cross-site WebSocket hijacking).
      // Programs (no Origin) may join: the Origin check protects browser users, not the server.
      origins: (origin) => origin === undefined || origin === `http://${req.headers.host}`,
      maxMessageSize: 16 * 1024,
      keepaliveInterval: 30_000,
    });
    ws.opened.then(
      () => room.join(ws),
      (e) => log(`refused ${socket.remoteAddress}: ${e?.status ?? ''} ${e?.message ?? e}`),
    );
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address();
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/`;
  return {
    url,
    wsUrl: `ws://${host}:${addr.port}/chat`,
    port: addr.port,
    room,
    async close() {
      const released = new Promise((r) => server.close(r));
      room.closeAll();
      // Give the close handshakes a moment, then drop whatever is left (keep-alive HTTP sockets included).
      await new Promise((r) => setTimeout(r, 300));
      server.closeAllConnections();
      await released;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chat = await startChat({ port: Number(process.env.PORT ?? 8080), log: (l) => console.log(l) });
  console.log(`chat on ${chat.url} (open it in two tabs); Ctrl-C stops`);
  process.once('SIGINT', async () => { await chat.close(); process.exit(0); });
}
