// The client side: any byte stream of JSON lines goes out as text messages, the gzip coming back is a byte stream.
//   node examples/pipeline/client.mjs ws://127.0.0.1:8080/ < records.jsonl > records.jsonl.gz
import { connect } from '@streamsocket/node';
import { Readable, Writable } from 'node:stream';
import { lines } from './transforms.mjs';

/**
 * Sends `input` (bytes of JSON lines) and returns the gzip bytes the server streams back. Both directions run at
 * once: compressed output arrives while input is still being sent, and a slow consumer of the result slows the
 * sending down (the server stops reading when its writable is full, and so on back to `input`).
 */
export async function compressRemotely(url, input) {
  const ws = connect(url, { protocols: ['jsonl-gzip'] });
  const { readable, writable } = await ws.opened;
  const sent = input
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(lines())
    .pipeThrough(new TransformStream({ flush: (c) => c.enqueue('') })) // end-of-batch marker
    .pipeTo(writable, { preventClose: true });
  sent.catch(() => {}); // a failure shows in `readable` too (the session errors it)
  return { gzip: readable, sent, closed: ws.closed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { gzip, closed } = await compressRemotely(process.argv[2] ?? 'ws://127.0.0.1:8080/', Readable.toWeb(process.stdin));
  await gzip.pipeTo(Writable.toWeb(process.stdout));
  await closed;
}
