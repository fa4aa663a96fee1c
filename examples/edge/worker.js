// A Cloudflare Worker that relays through a WebSocket it opens itself: `connect()` from `cloudflare:sockets` gives
// a raw TCP byte pair ({ readable, writable }), and @streamsocket/session runs the WebSocket client over it (the
// opening handshake, framing, masking, the close handshake): the same code as in Node, Deno, Bun and browsers.
//
// POST lines to the worker: each line becomes a text message to env.UPSTREAM (a ws:// URL), and each message that
// comes back is a line of the response, streamed as it arrives. Every line sent expects one answer (an echo or an
// RPC-style upstream); once all are in, the worker closes the WebSocket with 1000.
import { connect as connectTcp } from 'cloudflare:sockets';
import { connect } from '@streamsocket/session';

function lines() {
  let partial = '';
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      for (const p of parts) if (p !== '') controller.enqueue(p.endsWith('\r') ? p.slice(0, -1) : p);
    },
    flush(controller) {
      if (partial !== '') controller.enqueue(partial);
    },
  });
}

export default {
  async fetch(request, env) {
    if (request.method !== 'POST') return new Response('POST lines: each is relayed as a WebSocket message\n', { status: 405, headers: { allow: 'POST' } });
    const upstream = new URL(env.UPSTREAM);
    const tcp = connectTcp({ hostname: upstream.hostname, port: Number(upstream.port || 80) });
    const ws = connect({ readable: tcp.readable, writable: tcp.writable }, upstream, { handshakeTimeout: 5000 });
    let open;
    try {
      open = await ws.opened;
    } catch (e) {
      // A refused handshake carries the status the upstream answered (HandshakeError.status).
      const status = e?.status ? `HTTP ${e.status}, ` : '';
      return new Response(`upstream WebSocket failed: ${status}${e?.message ?? e}\n`, { status: 502 });
    }
    const { readable, writable, protocol } = open;
    let sent = 0;
    let received = 0;
    let inputDone = false;
    const closeWhenAnswered = () => {
      if (inputDone && received >= sent) ws.close({ closeCode: 1000, reason: 'relay done' });
    };
    const body = request.body ?? new ReadableStream({ start: (c) => c.close() });
    body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(lines())
      .pipeThrough(new TransformStream({ transform(line, c) { sent++; c.enqueue(line); } }))
      .pipeTo(writable, { preventClose: true })
      .then(() => { inputDone = true; closeWhenAnswered(); }, () => ws.close());
    const answers = readable
      .pipeThrough(new TransformStream({
        transform(message, c) {
          received++;
          c.enqueue(typeof message === 'string' ? `${message}\n` : `[binary, ${message.byteLength} bytes]\n`);
          closeWhenAnswered();
        },
      }))
      .pipeThrough(new TextEncoderStream());
    return new Response(answers, { headers: { 'content-type': 'text/plain; charset=utf-8', 'x-upstream-protocol': protocol } });
  },
};
