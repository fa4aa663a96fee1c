// A Cloudflare Worker serving WebSockets with websocketRoute: the platform's WebSocketPair carries the frames, and
// the handler gets the same WebSocketStream API as on Node, Deno and Bun (`ws.engine` is 'platform' here).
//   GET /        a line of text
//   /echo        every message back to its sender (subprotocol echo.v1)
//   /room        topics within a Worker, and their limit (see below)
import { websocketRoute } from '@streamsocket/session';

const echo = websocketRoute({ protocols: ['echo.v1'] }, async (ws) => {
  const { readable, writable } = await ws.opened;
  const writer = writable.getWriter();
  await writer.write(`engine: ${ws.engine}`);
  writer.releaseLock();
  await readable.pipeTo(writable).catch(() => {});
});

// Topics in a Worker: each WebSocket belongs to the request that opened it, and workerd lets no other request's
// code write to it ("Cannot perform I/O on behalf of a different request"). So a publish from one connection's
// handler reaches none of the others here: `publish` returns how many it reached, and this route tells the sender.
// A room shared by many clients belongs in a Durable Object, whose one context holds all of their sockets.
const room = websocketRoute(async (ws) => {
  const { readable, writable } = await ws.opened;
  const writer = writable.getWriter();
  ws.subscribe('room');
  for await (const m of readable) await writer.write(`reached ${room.publish('room', m, { except: ws })} of ${room.topics.subscriberCount('room') - 1}`);
});

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === '/echo') return echo.upgrade(request);
    if (pathname === '/room') return room.upgrade(request);
    if (pathname === '/') return new Response('a Worker with WebSocket routes\n');
    return new Response('not found\n', { status: 404 });
  },
};
