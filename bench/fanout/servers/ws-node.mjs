// ws, the usual broadcast: a message from one client is sent to every other client with the loop over wss.clients.
import { WebSocketServer, WebSocket } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => console.log(`PORT ${wss.address().port}`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const c of wss.clients) if (c !== ws && c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary });
  });
});
process.on('SIGTERM', () => process.exit(0));
