// A Worker that runs the client half over cloudflare:sockets (streamsocket's workerd entry) on each request.
import { echo } from './client.mjs';

export default {
  async fetch(request, env) {
    try {
      return Response.json(await echo(env.UPSTREAM));
    } catch (e) {
      return new Response(`failed: ${e?.stack ?? e}`, { status: 500 });
    }
  },
};
