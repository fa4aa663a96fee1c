// The closed-loop client every entry in clients/ runs, whatever its WebSocket: N connections to the C echo server,
// each keeping W messages in flight; every echo is checked (length, type, per-connection order by the sequence
// number in its first bytes) and answered by the next message. Runtime-neutral (Node, Deno, Bun): only the
// browser-style WebSocket surface (onopen/onmessage/onerror/onclose, send, close, binaryType) and performance.now().
//
// Protocol with run.mjs (stdout lines): `START` when the warm-up is over and the measuring window opens (run.mjs
// samples this process's CPU time then), `DONE {json}` when it closes (sampled again), then the process exits.

function argsOf(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith('--')) o[argv[i].slice(2)] = argv[i + 1];
  return {
    url: o.url,
    conns: Number(o.conns ?? 16),
    inflight: Number(o.inflight ?? 4),
    size: Number(o.size ?? 16),
    text: o.text === '1',
    warmupMs: Number(o.warmup ?? 500),
    measureMs: Number(o.measure ?? 2000),
    proxy: o.proxy,
  };
}

/** Sequence number from an echo of any shape the clients hand out (string, ArrayBuffer, Buffer/Uint8Array, Blob not used). */
function seqOf(d) {
  if (typeof d === 'string') return parseInt(d.slice(0, 8), 16);
  const u = d instanceof ArrayBuffer ? new Uint8Array(d, 0, 4) : d;
  return (u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]) >>> 0;
}
function lengthOf(d) {
  return typeof d === 'string' ? d.length : d.byteLength;
}

/**
 * @param {(url: string) => any} open  makes a WebSocket for the URL (binaryType already set by the caller's choice)
 * @param {string[]} argv
 * @param {(line: string) => void} print
 */
export async function drive(open, argv, print, exit) {
  const a = argsOf(argv);
  const filler = 'abcdefghijklmnopqrstuvwxyz0123456789 '.repeat(Math.ceil(a.size / 37) + 1);
  const binary = new Uint8Array(a.size);
  for (let i = 4; i < a.size; i++) binary[i] = (i * 131) & 0xff;
  const payload = (seq) => {
    if (a.text) return seq.toString(16).padStart(8, '0') + filler.slice(0, a.size - 8);
    const b = binary.slice(); // a fresh buffer per message: some clients keep a reference until it is written
    b[0] = seq >>> 24; b[1] = (seq >>> 16) & 0xff; b[2] = (seq >>> 8) & 0xff; b[3] = seq & 0xff;
    return b;
  };
  let measuring = false;
  let count = 0;
  const cap = 2_000_000;
  const lat = new Float64Array(cap);
  let nlat = 0;
  let failure = null;
  let stopping = false;
  const fail = (msg) => {
    if (failure) return;
    failure = msg;
    print(`ERROR ${msg}`);
    exit(2);
  };
  const conns = [];
  await Promise.all(Array.from({ length: a.conns }, (_, id) => new Promise((resolve) => {
    const ws = open(a.url, a.proxy);
    const c = { ws, sent: 0, recv: 0, at: new Float64Array(a.inflight) };
    conns.push(c);
    const send = () => {
      c.at[c.sent % a.inflight] = performance.now();
      ws.send(payload(c.sent));
      c.sent = (c.sent + 1) >>> 0;
    };
    ws.onopen = () => {
      for (let i = 0; i < a.inflight; i++) send();
      resolve();
    };
    ws.onerror = (e) => { if (!stopping) fail(`connection ${id}: ${e?.message ?? e?.error ?? 'error'}`); };
    ws.onclose = (e) => { if (!stopping) fail(`connection ${id} closed: ${e.code} ${e.reason}`); };
    ws.onmessage = (e) => {
      const d = e.data;
      const t = performance.now();
      if (lengthOf(d) !== a.size || (typeof d === 'string') !== a.text) return fail(`connection ${id}: echo of ${lengthOf(d)} bytes (${typeof d}), expected ${a.size}`);
      const seq = seqOf(d);
      if (seq !== c.recv) return fail(`connection ${id}: echo ${seq}, expected ${c.recv}`);
      if (measuring) {
        count++;
        if (nlat < cap) lat[nlat++] = t - c.at[seq % a.inflight];
      }
      c.recv = (c.recv + 1) >>> 0;
      send();
    };
  })));
  await new Promise((r) => setTimeout(r, a.warmupMs));
  print('START');
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, a.measureMs));
  measuring = false;
  const secs = (performance.now() - t0) / 1000;
  const sorted = lat.subarray(0, nlat).sort();
  const q = (p) => (nlat ? sorted[Math.min(nlat - 1, Math.floor(p * nlat))] * 1000 : NaN); // µs
  print(`DONE ${JSON.stringify({ messages: count, seconds: secs, rate: count / secs, p50: q(0.5), p99: q(0.99) })}`);
  stopping = true;
  for (const c of conns) try { c.ws.close(1000); } catch { /* already closing */ }
  setTimeout(() => exit(0), 200);
}

