// Runs the pipeline example for real: the compressing server on a free loopback port, a client streaming 20 000
// JSON records (~2 MB) through it, and the gzip that comes back decompressed with DecompressionStream and checked
// record by record. Proves the streaming too: the source withholds its last chunk until compressed bytes have come
// back, which would deadlock (and time out) if any stage waited for the whole input.
//   node examples/pipeline/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gunzipSync } from 'node:zlib';
import { startServer } from './server.mjs';
import { compressRemotely } from './client.mjs';
import { lines } from './transforms.mjs';

const N = 20_000;
const record = (i) => ({ id: i, name: `sensor-${i % 97}`, reading: Math.sin(i) * 100, tags: ['a', 'b', String(i % 13)] });

/**
 * JSON lines, generated on demand in 64-record chunks (the input never exists whole either). The last chunk is
 * held back until `progress.gotOutput` resolves.
 */
function source(progress) {
  let i = 0;
  const enc = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      if (i >= N) return controller.close();
      if (N - i <= 64) {
        const waited = await Promise.race([progress.gotOutput.then(() => true), new Promise((r) => setTimeout(r, 10_000, false))]);
        if (!waited) return controller.error(new Error('no compressed output before the end of the input: something buffers it whole'));
        progress.sentWhenFirstGzip = i;
      }
      let chunk = '';
      for (let k = 0; k < 64 && i < N; k++, i++) chunk += JSON.stringify(record(i)) + '\n';
      if (i === 64) chunk += 'not json\n'; // line 65
      progress.sentRecords = i;
      controller.enqueue(enc.encode(chunk));
    },
  }, { highWaterMark: 0 });
}

test('JSON lines in, gzip out, streamed both ways', async () => {
  const server = startServer();
  await server.ready;
  try {
    let outputArrived;
    const progress = { sentRecords: 0, sentWhenFirstGzip: 0, gotOutput: new Promise((r) => { outputArrived = r; }) };
    const { gzip, closed } = await compressRemotely(`ws://127.0.0.1:${server.port}/`, source(progress));
    let records = 0;
    let bad = null;
    let prev = 0;
    let gzBytes = 0;
    const tap = new TransformStream({
      transform(chunk, c) {
        outputArrived();
        gzBytes += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const copy = [];
    await gzip
      .pipeThrough(tap)
      .pipeThrough(new TransformStream({ transform(chunk, c) { copy.push(chunk); c.enqueue(chunk); } }))
      .pipeThrough(new DecompressionStream('gzip'))
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(lines())
      .pipeTo(new WritableStream({
        write(line) {
          const r = JSON.parse(line);
          assert.is(r.n, prev + 1, 'in order, numbered by the server');
          prev = r.n;
          if (!r.ok) { bad = r; return; }
          assert.equal(r.value, record(records));
          records++;
        },
      }));
    assert.equal(await closed, { closeCode: 1000, reason: 'done' });
    assert.is(records, N);
    assert.is(bad?.n, 65, 'the line that is not JSON is reported in place, and the stream goes on');
    // The gzip is a valid standalone file too (header, deflate data, CRC32 and size trailer).
    const whole = gunzipSync(Buffer.concat(copy)).toString();
    assert.is(whole.split('\n').length, N + 2);
    assert.ok(gzBytes < 2_000_000 / 3, `compressed (${gzBytes} bytes)`);
    assert.ok(progress.sentWhenFirstGzip > 0 && progress.sentWhenFirstGzip < N, 'compressed output came back while input was still held back');
  } finally {
    await server.close();
  }
});

test('a one-record batch: its gzip, then a normal close', async () => {
  const server = startServer();
  await server.ready;
  try {
    const { connect } = await import('@streamsocket/node');
    const ws = connect(`ws://127.0.0.1:${server.port}/`, { protocols: ['jsonl-gzip'] });
    const { readable, writable } = await ws.opened;
    const w = writable.getWriter();
    await w.write('{"a":1}');
    await w.write('');
    const chunks = [];
    for await (const c of readable) chunks.push(c);
    assert.equal(await ws.closed, { closeCode: 1000, reason: 'done' });
    assert.is(gunzipSync(Buffer.concat(chunks)).toString(), '{"n":1,"ok":true,"value":{"a":1}}\n');
  } finally {
    await server.close();
  }
});

test.run();
