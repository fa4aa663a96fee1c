// MQTT over WebSocket for real: Debian's mosquitto (installed with apt-get if missing, started on a free loopback
// port with a temporary WebSocket-only configuration, see broker.mjs) and two MQTT.js clients whose transport is
// @streamsocket/node's WebSocket. Publish/subscribe round trips at QoS 0 and 1, binary payloads, retained messages.
//   node examples/mqtt/test.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from '@streamsocket/node';
import { startBroker } from './broker.mjs';
import { connectMqtt } from './client.mjs';

let broker;
const sockets = [];
/** connectMqtt, recording the WebSocket objects MQTT.js got, to prove they are ours. */
const client = (opts = {}) => connectMqtt(broker.url, {
  createWebsocket: (url, protocols) => { const ws = new WebSocket(url, protocols); sockets.push(ws); return ws; },
  ...opts,
});
const connected = (c) => new Promise((resolve, reject) => {
  c.once('connect', resolve);
  c.once('error', reject);
});

test.before(async () => {
  broker = await startBroker();
});
test.after(async () => {
  await broker?.stop();
});

test('publish and subscribe round trip through mosquitto, over our WebSocket', async () => {
  const sub = client({ clientId: 'sub-1' });
  const pub = client({ clientId: 'pub-1' });
  await Promise.all([connected(sub), connected(pub)]);
  try {
    assert.is(sockets.length, 2);
    for (const ws of sockets) {
      assert.is(ws.protocol, 'mqtt', 'the broker accepted subprotocol mqtt');
      assert.is(ws.readyState, WebSocket.OPEN);
    }
    const received = [];
    const want = 3;
    const all = new Promise((resolve) => sub.on('message', (topic, payload, packet) => {
      received.push({ topic, payload: new Uint8Array(payload), qos: packet.qos });
      if (received.length === want) resolve();
    }));
    await sub.subscribeAsync('streamsocket/test/#', { qos: 1 });
    const binary = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff); // several TCP segments, one MQTT packet
    await pub.publishAsync('streamsocket/test/a', 'hello mqtt', { qos: 0 });
    await pub.publishAsync('streamsocket/test/b', Buffer.from(binary), { qos: 1 });
    await pub.publishAsync('streamsocket/test/c', 'ünïcode ✓', { qos: 1 });
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received.length} messages`)), 10_000))]);
    const byTopic = Object.fromEntries(received.map((r) => [r.topic, r]));
    assert.is(new TextDecoder().decode(byTopic['streamsocket/test/a'].payload), 'hello mqtt');
    assert.equal(byTopic['streamsocket/test/b'].payload, binary);
    assert.is(byTopic['streamsocket/test/b'].qos, 1);
    assert.is(new TextDecoder().decode(byTopic['streamsocket/test/c'].payload), 'ünïcode ✓');
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  }
  // MQTT.js's end() closes its WebSocket: ours then reports a finished close handshake.
  for (const ws of sockets) assert.is(ws.readyState, WebSocket.CLOSED);
});

test('a retained message reaches a client that subscribes later', async () => {
  const pub = client({ clientId: 'pub-2' });
  await connected(pub);
  await pub.publishAsync('streamsocket/retained', 'kept by the broker', { qos: 1, retain: true });
  await pub.endAsync();
  const late = client({ clientId: 'late-1' });
  await connected(late);
  try {
    const got = new Promise((resolve) => late.on('message', (topic, payload, packet) => resolve({ topic, text: payload.toString(), retain: packet.retain })));
    await late.subscribeAsync('streamsocket/retained', { qos: 1 });
    const m = await Promise.race([got, new Promise((_, reject) => setTimeout(() => reject(new Error('no retained message')), 10_000))]);
    assert.equal(m, { topic: 'streamsocket/retained', text: 'kept by the broker', retain: true });
  } finally {
    await late.endAsync();
  }
});

test.run();
