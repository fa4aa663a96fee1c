// MQTT.js over streamsocket: MQTT.js's browser transport drives any WHATWG-style WebSocket object, and
// `createWebsocket` lets us hand it ours (from @streamsocket/node) instead of the `ws` package. Everything MQTT
// (CONNECT, SUBSCRIBE, PUBLISH, keepalive PINGREQ) then travels as binary WebSocket messages over subprotocol `mqtt`.
import mqtt from 'mqtt';
import { WebSocket } from '@streamsocket/node';

/** `mqtt.connect()` with our WebSocket underneath. `url` is ws://host:port/path of a broker's WebSocket listener. */
export function connectMqtt(url, options = {}) {
  return mqtt.connect(url, {
    // Selects MQTT.js's WHATWG-WebSocket transport (its default in Node would be the `ws` package).
    forceNativeWebSocket: true,
    // MQTT.js passes ['mqtt'] (or ['mqttv3.1'] for MQTT 3.1): the subprotocol the broker requires.
    createWebsocket: (wsUrl, protocols) => new WebSocket(wsUrl, protocols),
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
}

// `node examples/mqtt/client.mjs ws://127.0.0.1:9001/`: one publish/subscribe round trip against a broker.
if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[2] ?? 'ws://127.0.0.1:9001/';
  const client = connectMqtt(url);
  client.on('error', (e) => { console.error(`mqtt: ${e.message}`); process.exit(1); });
  client.on('message', (topic, payload) => {
    console.log(`received on ${topic}: ${payload}`);
    client.end();
  });
  await client.subscribeAsync('streamsocket/demo');
  await client.publishAsync('streamsocket/demo', `hello over streamsocket at ${new Date().toISOString()}`);
}
