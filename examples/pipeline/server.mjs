// A compressing archiver: JSON lines in as text messages, gzip out as binary messages, one pipeline per
// connection with no stage holding more than a chunk:
//   messages → until "" → parse+number → JSON lines → UTF-8 → CompressionStream('gzip') → binary messages
import { serve } from '@streamsocket/node';
import { untilEndMarker, parseRecords, toJsonLines } from './transforms.mjs';

export function startServer({ hostname = '127.0.0.1', port = 0 } = {}) {
  const server = serve({ hostname, port, protocols: ['jsonl-gzip'] }, async (ws) => {
    const { readable, writable } = await ws.opened;
    await untilEndMarker(readable)
      .pipeThrough(parseRecords())
      .pipeThrough(toJsonLines())
      .pipeThrough(new TextEncoderStream())
      .pipeThrough(new CompressionStream('gzip'))
      // Each compressed chunk is one binary message; the gzip trailer is the last one. preventClose: the close
      // handshake is sent below, after the last chunk was handed over.
      .pipeTo(writable, { preventClose: true });
    ws.close({ closeCode: 1000, reason: 'done' });
  });
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = startServer({ port: Number(process.env.PORT ?? 8080) });
  await server.ready;
  console.log(`jsonl-gzip server on ws://127.0.0.1:${server.port}/`);
}
