// @streamsocket/node's WebSocketStream API (connect(): opened → { readable, writable }), presented to the driver
// through the same onopen/onmessage/send surface: one reader loop per connection, writes without awaiting (the
// writer queues; the closed loop bounds what is in flight).
import { connect } from '@streamsocket/node';
import { drive } from '../driver.mjs';
const open = (url) => {
  const ws = connect(url, { maxMessageSize: 64 * 1024 * 1024 });
  const face = { onopen: null, onmessage: null, onerror: null, onclose: null, writer: null };
  face.send = (m) => void face.writer.write(m).catch(() => {});
  face.close = (code) => ws.close({ closeCode: code });
  ws.opened.then(async ({ readable, writable }) => {
    face.writer = writable.getWriter();
    face.onopen?.();
    const reader = readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      face.onmessage?.({ data: value });
    }
  }).catch((e) => face.onerror?.(e));
  ws.closed.then((c) => face.onclose?.({ code: c.closeCode, reason: c.reason }), (e) => face.onclose?.({ code: 1006, reason: String(e) }));
  return face;
};
drive(open, process.argv.slice(2), (l) => console.log(l), (c) => process.exit(c));
