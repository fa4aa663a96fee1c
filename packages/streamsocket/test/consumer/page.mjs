// Loaded as a module by a headless Chromium page: the client half over the page's WebSocket (the browser entry).
import { echo } from './client.mjs';

const url = new URL(location.href).searchParams.get('ws');
echo(url).then(
  (r) => console.log(`result ${JSON.stringify(r)}`),
  (e) => console.log(`failed ${e?.stack ?? e}`),
);
