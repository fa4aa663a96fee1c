// The JSR package's main entry and one subpath, run by Deno from the workspace's TypeScript sources as JSR serves
// them (packages/deno.json resolves `@streamsocket/streamsocket` to this member): a server and a client from the
// one import echo a text and a binary message and close with 1000. Run by release.suite.mjs; prints one JSON line.
import { serve, connect, runtime, UnsupportedFeatureError, upgrade } from '@streamsocket/streamsocket';
import { Opcode } from '@streamsocket/streamsocket/codec';

const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out after 20 s' }));
  Deno.exit(1);
}, 20_000);

const server = serve({ hostname: '127.0.0.1', port: 0 }, async (ws) => {
  const { readable, writable } = await ws.opened;
  await readable.pipeTo(writable);
});
await server.ready;
const ws = connect(`${server.url}/`);
const { readable, writable } = await ws.opened;
const writer = writable.getWriter();
const reader = readable.getReader();
await writer.write('héllo');
const text = (await reader.read()).value;
await writer.write(new Uint8Array([1, 2, 3]));
const binary = Array.from((await reader.read()).value);
ws.close({ closeCode: 1000, reason: 'bye' });
const closed = await ws.closed;
await server.close();
let unsupported = '';
try {
  upgrade(null, null, new Uint8Array());
} catch (e) {
  unsupported = e instanceof UnsupportedFeatureError ? e.message : String(e);
}
clearTimeout(timer);
console.log(JSON.stringify({ runtime, text, binary, closed, textOpcode: Opcode.Text, unsupported }));
