/**
 * websocketRoute's per-address limit on a real host (Deno.serve, Bun.serve): the host's own peer address is what
 * `maxConnectionsPerAddress` counts. Runtime-agnostic: each adapter's route test passes its host and its client.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './pair-suite.js';

interface RouteLike {
  upgrade(request: Request, env?: unknown): Response | Promise<Response>;
  readonly stats: { readonly refusedPerAddress: number };
  close(reason?: string): void;
}
interface ClientLike {
  opened: Promise<unknown>;
  closed: Promise<unknown>;
  close(): void;
}
export interface RouteLimitSpec {
  /** The adapter's websocketRoute. */
  websocketRoute(options: { maxConnectionsPerAddress: number }, handler: (ws: { opened: Promise<{ readable: ReadableStream; writable: WritableStream }> }, info: { clientAddress: string }) => unknown): RouteLike;
  /** Serves `route` on 127.0.0.1, port 0, passing the host's per-request context as `env`. */
  host(route: RouteLike): Promise<{ url: string; stop(): Promise<void> }>;
  /** The adapter's own client. */
  connect(url: string): ClientLike;
}

export function routeLimitTest(name: string, spec: RouteLimitSpec): void {
  test(`${name}: maxConnectionsPerAddress counts the host's peer address: a second session from 127.0.0.1 gets 429, and is served once the first closed`, async () => {
    const seen: string[] = [];
    const route = spec.websocketRoute({ maxConnectionsPerAddress: 1 }, async (ws, info) => {
      seen.push(info.clientAddress);
      const { readable, writable } = await ws.opened;
      await readable.pipeTo(writable).catch(() => {});
    });
    const h = await spec.host(route);
    const opened: ClientLike[] = [];
    try {
      const first = spec.connect(h.url);
      opened.push(first);
      await within(5000, first.opened, 'first session');
      const second = spec.connect(h.url);
      opened.push(second);
      const e = await within(5000, second.opened.then(() => null, (x: unknown) => x), 'second session refused');
      assert.is((e as { status?: number } | null)?.status, 429, 'refused with 429');
      assert.is(route.stats.refusedPerAddress, 1);
      assert.equal(seen, ['127.0.0.1']);
      first.close();
      await within(5000, first.closed, 'first closed');
      let third: ClientLike | null = null;
      // The host reports the close a little after our client saw it: retry for up to 2 s.
      for (let i = 0; i < 40 && third === null; i++) {
        const c = spec.connect(h.url);
        opened.push(c);
        if (await within(5000, c.opened.then(() => true, () => false), 'third session')) third = c;
        else await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(third, 'served once the first session closed');
      assert.is(seen.at(-1), '127.0.0.1');
    } finally {
      for (const c of opened) {
        c.opened.catch(() => {});
        c.closed.catch(() => {});
        c.close();
      }
      route.close();
      await h.stop();
    }
  });
}
