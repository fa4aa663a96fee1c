// The client half, for runtimes that cannot serve (workerd, a browser page): echo a text and a binary message
// through the server at `url`, close with 1000.
import { connect, runtime } from 'streamsocket';

export async function echo(url) {
  const ws = connect(url);
  const { readable, writable } = await ws.opened;
  const writer = writable.getWriter();
  const reader = readable.getReader();
  await writer.write('héllo');
  await writer.write(new Uint8Array([1, 2, 255]));
  const text = (await reader.read()).value;
  const binary = (await reader.read()).value;
  ws.close({ closeCode: 1000, reason: 'bye' });
  const closed = await ws.closed;
  return { runtime, text, binary: [...binary], closed };
}
