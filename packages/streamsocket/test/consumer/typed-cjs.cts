// Type-checked (not run) as CommonJS under module nodenext: TypeScript 5.8+ lets CommonJS require the ES module
// package, as Node 20.19+ does (require(esm)).
import { WebSocket, WebSocketStream } from 'streamsocket';

const ws = new WebSocket('ws://127.0.0.1:9/');
ws.onmessage = (e) => {
  const data: string | ArrayBuffer | Blob = e.data;
  console.log(data);
};
ws.addEventListener('close', (e) => console.log(e.code, e.wasClean));
const s = new WebSocketStream('ws://127.0.0.1:9/', { protocols: ['chat'] });
s.close({ closeCode: 1000 });
