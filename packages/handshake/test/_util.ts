// Shared helpers for the handshake tests (not a test file itself: no .test.ts suffix).
export const enc = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
};
export const dec = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
};
export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
/** Joins lines with CRLF and terminates the head. */
export const head = (...lines: string[]): string => lines.join('\r\n') + '\r\n\r\n';

export const GOOD_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const GOOD_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
export const goodRequestLines = (): string[] => [
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Key: ${GOOD_KEY}`,
  'Sec-WebSocket-Version: 13',
];
