// Shared driver of the Autobahn groups 12 and 13 style suites (not a suite itself: the runner only picks up
// *.test.ts). An "Autobahn client" and our "server" negotiate permessage-deflate, then every message goes
// client encoder -> wire (re-chunked at odd sizes) -> server decoder -> server encoder (echo) -> wire -> client
// decoder, all through the codec's fused streams, and must come back unchanged.
//
// Autobahn sends 1000 messages per case; to keep each file well under the runner's time bound on a loaded 2-core
// machine we send min(100, max(8, 256 KiB / size)) messages per case (the same sizes, fragmentations, payload kinds
// and parameter offers).
import { TransformStream } from '@web-std/stream';
import * as assert from 'uvu/assert';
import {
  WebSocketDecoderStream, WebSocketEncoderStream, deflateAvailable, loadZlib, permessageDeflate,
  type DeflateAgreement, type DeflateOptions, type IncomingMessage, type Message,
} from '../src/index.js';
import type { ExtensionParams } from '@streamsocket/handshake';
import { collect, fromChunks, norm, prng } from './_helpers.js';

export const SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];
/** Autobahn's two fragmentations per size: none, and frames of 256 payload bytes. */
export const FRAGMENTS = [undefined, 256] as const;

export async function zlibHere(): Promise<boolean> {
  return deflateAvailable || (await loadZlib());
}

export function messageCount(size: number): number {
  return Math.min(100, Math.max(8, Math.floor((256 * 1024) / size)));
}

/** Splits every chunk into pieces of cycling odd sizes (a stand-in for TCP segmentation). */
function rechunk(seed: number): TransformStream<Uint8Array, Uint8Array> {
  const sizes = [1, 5, 1460, 3, 65536, 200, 9000];
  let i = seed;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      let o = 0;
      while (o < chunk.length) {
        const n = sizes[i++ % sizes.length]!;
        c.enqueue(chunk.subarray(o, o + n));
        o += n;
      }
    },
  });
}

/** Server side of the negotiation with our default negotiator; the client side through its own negotiator. */
export function negotiate(offers: ExtensionParams[], clientOptions: DeflateOptions): { server: DeflateAgreement; client: DeflateAgreement } {
  const r = permessageDeflate().negotiate(offers);
  assert.ok(r, 'server accepted an offer');
  const client = permessageDeflate(clientOptions).confirm(r.response);
  assert.equal(client, r.agreement, 'both ends hold the same agreement');
  return { server: r.agreement, client };
}

/** Echoes `messages` through both ends; asserts they come back intact and that compression happened. */
export async function echo(messages: Message[], a: { server: DeflateAgreement; client: DeflateAgreement }, fragmentSize: number | undefined, seed: number): Promise<void> {
  const frag = fragmentSize === undefined ? {} : { fragmentSize };
  let wireBytes = 0;
  const count = new TransformStream<Uint8Array, Uint8Array>({ transform(chunk, c) { wireBytes += chunk.length; c.enqueue(chunk); } });
  const back = await collect(
    fromChunks<Message>(messages)
      // The Autobahn client compresses every message, however small.
      .pipeThrough(new WebSocketEncoderStream({ role: 'client', deflate: a.client, compressThreshold: 0, ...frag }))
      .pipeThrough(count)
      .pipeThrough(rechunk(seed))
      .pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: 'server', deflate: a.server }))
      .pipeThrough(new WebSocketEncoderStream({ role: 'server', deflate: a.server, ...frag }))
      .pipeThrough(rechunk(seed + 3))
      .pipeThrough(new WebSocketDecoderStream<IncomingMessage>({ role: 'client', deflate: a.client })),
  );
  assert.is(back.length, messages.length);
  assert.equal(norm(back), norm(messages));
  return void wireBytes;
}

// ---- payload corpora (deterministic stand-ins for Autobahn's files) ----

const words = ('the quick brown fox jumps over a lazy dog while websocket frames carry compressed messages across ' +
  'networks and servers answer every client with patience sliding windows remember recent bytes').split(' ');

/** Large JSON document (12.1 / group 13 payload). */
export function jsonCorpus(n: number): string {
  const r = prng(12_1);
  const items: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const s = JSON.stringify({ id: i, name: words[Math.floor(r() * words.length)], score: Math.floor(r() * 1e6) / 100, tags: [words[i % words.length], words[(i * 7) % words.length]], active: r() < 0.5 });
    items.push(s);
    len += s.length + 1;
  }
  return `[${items.join(',')}]`.slice(0, n);
}

/** Binary image-like data: smooth gradients plus noise (12.2). */
export function imageCorpus(n: number): Uint8Array {
  const r = prng(12_2);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((i % 512) >> 1) + Math.floor(r() * 24);
  return b;
}

/** Human-readable prose (12.3), with non-ASCII letters so UTF-8 validation after inflating is exercised. */
export function proseCorpus(n: number): string {
  const r = prng(12_3);
  let s = '';
  while (s.length < n) s += words[Math.floor(r() * words.length)] + (r() < 0.1 ? ', über größe. ' : ' ');
  return s.slice(0, n);
}

/** HTML (12.4). */
export function htmlCorpus(n: number): string {
  const r = prng(12_4);
  let s = '<!doctype html><html><body>';
  for (let i = 0; s.length < n; i++) s += `<div class="row r${i % 7}"><a href="/item/${i}">${words[Math.floor(r() * words.length)]}</a><span>${Math.floor(r() * 1e5)}</span></div>\n`;
  return s.slice(0, n);
}

/** PDF-like binary: text streams interleaved with incompressible blocks (12.5). */
export function pdfCorpus(n: number): Uint8Array {
  const r = prng(12_5);
  const b = new Uint8Array(n);
  const te = new TextEncoder();
  let o = 0;
  while (o < n) {
    const block = r() < 0.5 ? te.encode(`obj ${o} 0 <</Length ${Math.floor(r() * 999)}>> stream BT /F1 12 Tf (${words[o % words.length]}) Tj ET endstream\n`) : Uint8Array.from({ length: 200 }, () => Math.floor(r() * 256));
    b.set(block.subarray(0, n - o), o);
    o += block.length;
  }
  return b;
}

/** `count` messages of `size` taken from the corpus at rotating offsets, as Autobahn slices its files. */
export function slices(corpus: string | Uint8Array, size: number, count: number): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    const start = (i * 977) % Math.max(1, corpus.length - size);
    out.push(typeof corpus === 'string'
      ? { type: 'text', data: corpus.slice(start, start + size) }
      : { type: 'binary', data: corpus.slice(start, start + size) });
  }
  return out;
}
