import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  HeadReader,
  HandshakeError,
  buildClientRequest,
  parseRequestHead,
  parseResponseHead,
  validateRequest,
  buildAcceptResponse,
  validateResponse,
  parseExtensions,
  serializeExtensions,
  parseProtocols,
  base64Encode,
  base64Decode,
  type ExtensionItem,
  type ExtensionParams,
} from '../src/index.js';
import { enc } from './_util.js';

const RUNS = { numRuns: 200 };

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const hostname = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.') + '.example'),
  fc.constantFrom('[::1]', '[2001:db8::7]', '127.0.0.1'),
);
const segment = fc.stringMatching(/^([A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-F]{2}){0,8}$/);
const query = fc.option(fc.stringMatching(/^([A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2}){0,12}$/), { nil: undefined });
const RESERVED = ['host', 'upgrade', 'connection', 'origin', 'content-length', 'transfer-encoding'];
const headerName = token.filter((n) => !RESERVED.includes(n.toLowerCase()) && !n.toLowerCase().startsWith('sec-websocket-'));
const fieldValue = fc.stringMatching(/^([\x21-\x7e\x80-\xff]([\x20-\x7e\t\x80-\xff]{0,20}[\x21-\x7e\x80-\xff])?)?$/);

test('property: client request -> parse -> validate -> 101 -> client validation round trip', () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      hostname,
      fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      fc.array(segment, { maxLength: 4 }),
      query,
      fc.uniqueArray(token, { maxLength: 4 }),
      fc.option(label.map((l) => `https://${l}.example`), { nil: undefined }),
      fc.array(fc.tuple(headerName, fieldValue), { maxLength: 4 }),
      (secure, host, port, segments, q, protocols, origin, headers) => {
        const url = `${secure ? 'wss' : 'ws'}://${host}${port === undefined ? '' : `:${port}`}/${segments.join('/')}${q === undefined ? '' : `?${q}`}`;
        const req = buildClientRequest(url, {
          protocols,
          headers,
          ...(origin === undefined ? {} : { origin }),
        });
        const parsed = parseRequestHead(req.bytes);
        assert.is(parsed.method, 'GET');
        assert.is(parsed.target, req.path);
        assert.is(parsed.headers.get('host'), req.url.host);
        for (const [n, v] of headers) assert.ok(parsed.headers.getAll(n).includes(v));
        const reversed = protocols.slice().reverse();
        const v = validateRequest(parsed, {
          protocols: reversed,
          path: (p) => p === req.path,
          ...(origin === undefined ? {} : { origins: [origin] }),
        });
        if (!v.ok) throw v.error;
        assert.is(v.handshake.origin, origin);
        assert.is(v.handshake.accept, req.expectedAccept);
        assert.is(v.handshake.protocol, reversed[0] ?? '');
        const res = validateResponse(req, parseResponseHead(buildAcceptResponse(v.handshake)));
        assert.is(res.protocol, reversed[0] ?? '');
      },
    ),
    RUNS,
  );
});

const paramValue = fc.oneof(fc.constant(true as const), token);
const extensionItem: fc.Arbitrary<ExtensionItem> = fc.tuple(
  token,
  fc.uniqueArray(fc.tuple(token, paramValue), { selector: (t) => t[0], maxLength: 4 }).map((pairs) => {
    const params: ExtensionParams = {};
    for (const [k, v] of pairs) Object.defineProperty(params, k, { value: v, enumerable: true, writable: true, configurable: true });
    return params;
  }),
).map(([name, params]) => ({ name, params }));

test('property: extensions serialise -> parse gives the same items', () => {
  fc.assert(
    fc.property(fc.array(extensionItem, { maxLength: 5 }), (items) => {
      assert.equal(parseExtensions(serializeExtensions(items)), items);
    }),
    RUNS,
  );
});

test('property: quoted values and arbitrary OWS parse to the same items', () => {
  const ows = fc.stringMatching(/^[ \t]{0,2}$/);
  fc.assert(
    fc.property(fc.array(fc.tuple(extensionItem, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), ows), { minLength: 1, maxLength: 4 }), (parts) => {
      const text = parts
        .map(([item, quote, sp]) =>
          item.name +
          Object.entries(item.params)
            .map(([k, v], i) => `${sp};${sp}${k}${v === true ? '' : `=${quote[i] ? `"${v.replace(/./g, (c) => (c === 'a' ? '\\a' : c))}"` : v}`}`)
            .join(''),
        )
        .join(`${parts[0]![2]},${parts[0]![2]}`);
      assert.equal(parseExtensions(text), parts.map(([item]) => item));
    }),
    RUNS,
  );
});

test('property: protocols join -> parse round trip', () => {
  fc.assert(
    fc.property(fc.uniqueArray(token, { maxLength: 6 }), (list) => {
      assert.equal(parseProtocols(list.join(', ')), list);
    }),
    RUNS,
  );
});

test('property: base64 encode/decode round trip', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.equal(base64Decode(base64Encode(bytes)), bytes);
    }),
    RUNS,
  );
});

test('property: any chunking of a head gives the same head and rest', () => {
  const req = buildClientRequest('ws://example.com/x?y', { protocols: ['a', 'b'], headers: { 'X-Long': 'v'.repeat(50) } });
  const bytes = new Uint8Array(req.bytes.length + 5);
  bytes.set(req.bytes);
  bytes.set([1, 2, 3, 4, 5], req.bytes.length);
  const whole = new HeadReader('request').push(bytes);
  assert.ok(whole);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 10 }), (cuts) => {
      cuts.sort((a, b) => a - b);
      const reader = new HeadReader('request');
      let prev = 0;
      let result = null;
      const rest: number[] = [];
      for (const cut of [...cuts, bytes.length]) {
        const chunk = bytes.subarray(prev, cut);
        prev = cut;
        if (result) rest.push(...chunk);
        else {
          result = reader.push(chunk);
          if (result) rest.push(...result.rest);
        }
      }
      assert.ok(result);
      assert.equal(result.head.headers.entries(), whole.head.headers.entries());
      assert.equal(rest, [1, 2, 3, 4, 5]);
    }),
    RUNS,
  );
});

test('property: arbitrary bytes never throw anything but HandshakeError', () => {
  const alphabet = fc.constantFrom(...enc('GET / HTTP/1.1\r\n\r\n: \t\x00\x7f\xffHost:a,;="\\'));
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 120 }), fc.constantFrom<'request' | 'response'>('request', 'response'), (arr, kind) => {
      try {
        const r = new HeadReader(kind, { maxHeadSize: 100, maxHeaderCount: 5 }).push(Uint8Array.from(arr));
        if (r && kind === 'request') validateRequest(r.head as Parameters<typeof validateRequest>[0]);
      } catch (e) {
        if (!(e instanceof HandshakeError)) throw e;
      }
    }),
    { numRuns: 500 },
  );
});

test.run();
