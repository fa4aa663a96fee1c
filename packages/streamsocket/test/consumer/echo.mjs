import { serve, connect, runtime } from 'streamsocket';

const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable);
});
await server.ready;
const ws = connect(`${server.url}/`);
const { readable, writable } = await ws.opened;
const writer = writable.getWriter();
const reader = readable.getReader();
await writer.write('héllo');
await writer.write(new Uint8Array([1, 2, 255]));
const text = (await reader.read()).value;
const binary = (await reader.read()).value;
ws.close({ closeCode: 1000, reason: 'bye' });
const closed = await ws.closed;
await server.close();
console.log(JSON.stringify({ runtime, text, binary: [...binary], closed }));
