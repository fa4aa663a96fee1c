// Type-checked (not run) with moduleResolution node16 and bundler: the typed events and the WHATWG shapes.
import { connect, WebSocket, WebSocketStream } from 'streamsocket';

const ws = new WebSocket('ws://127.0.0.1:9/', ['chat']);
ws.binaryType = 'arraybuffer';
ws.onmessage = (e) => {
  const data: string | ArrayBuffer | Blob = e.data;
  console.log(typeof data === 'string' ? data.length : data);
};
ws.addEventListener('close', (e) => {
  const code: number = e.code;
  const clean: boolean = e.wasClean;
  const reason: string = e.reason;
  console.log(code, clean, reason);
});
ws.onopen = () => ws.send('hi');

const s = new WebSocketStream('ws://127.0.0.1:9/', { protocols: ['chat'], signal: AbortSignal.timeout(1000) });
s.opened.then(async ({ readable, writable, protocol }) => {
  const writer = writable.getWriter();
  await writer.write(protocol);
  for (;;) {
    const { done, value } = await readable.getReader().read();
    if (done) break;
    console.log(typeof value === 'string' ? value : value.byteLength);
  }
});
s.closed.then(({ closeCode, reason }) => console.log(closeCode, reason), (e: unknown) => console.log(e));
s.close({ closeCode: 1000, reason: 'done' });
const c = connect('ws://127.0.0.1:9/');
c.close();
