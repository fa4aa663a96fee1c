// A server-side WebSocket opening handshake with @streamsocket/handshake, no sockets involved: the request a
// Chrome browser sent to a public MQTT-over-WebSocket broker is fed in small chunks to the incremental head
// reader, validated against a policy (subprotocols we speak, origins we allow), and answered with the 101.
import { HeadReader, validateRequest, buildAcceptResponse, errorResponse } from '@streamsocket/handshake';

export const seedRequest = [
  'GET /mqtt HTTP/1.1',
  'Host: broker.mqttdashboard.com:8000',
  'Connection: Upgrade',
  'Pragma: no-cache',
  'Cache-Control: no-cache',
  'Upgrade: websocket',
  'Origin: http://www.hivemq.com',
  'Sec-WebSocket-Version: 13',
  'User-Agent: Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.110 Safari/537.36',
  'Accept-Encoding: gzip, deflate, sdch',
  'Accept-Language: en-US,en;q=0.8',
  'Sec-WebSocket-Key: OfMWmQZlMFBWe/o7k1CzZg==',
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
  'Sec-WebSocket-Protocol: mqttv3.1',
  '',
  '',
].join('\r\n');

/** Returns the response bytes as text; the head arrives 7 bytes at a time, as if from a slow socket. */
export function answer(requestText, policy = { protocols: ['mqttv3.1', 'mqtt'], origins: ['http://www.hivemq.com'] }) {
  const bytes = new TextEncoder().encode(requestText);
  const reader = new HeadReader('request');
  let done = null;
  for (let i = 0; i < bytes.length && !done; i += 7) done = reader.push(bytes.subarray(i, i + 7));
  if (!done) throw new Error('incomplete head');
  const result = validateRequest(done.head, policy);
  const response = result.ok ? buildAcceptResponse(result.handshake) : errorResponse(result.error);
  return new TextDecoder().decode(response);
}

export function runHandshakeDemo() {
  const show = (label, text) => console.log(`${label}\n${text.replace(/\r\n/g, '\n').split('\n').map((l) => '  ' + l).join('\n')}`);
  show('--- request (from a browser, fed 7 bytes at a time) ---', seedRequest.trimEnd());
  show('--- our response ---', answer(seedRequest).trimEnd());
  show('--- the same request from an origin the policy refuses ---', answer(seedRequest.replace('http://www.hivemq.com', 'http://evil.example')).trimEnd());
}

if (import.meta.url === `file://${process.argv[1]}`) runHandshakeDemo();
