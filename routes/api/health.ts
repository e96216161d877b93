import type { Handlers } from "$fresh/server.ts";
import { sharedHub } from "../../lib/server/mod.ts";

const STARTED_AT = performance.now();

/**
 * `GET /api/health`: this isolate's hub — its id (as in the welcome frame),
 * its sockets and groups — so `deno serve --parallel` answers tell isolates
 * apart.
 */
export const handler: Handlers = {
  async GET() {
    const hub = await sharedHub();
    return Response.json(
      {
        ok: true,
        isolate: hub.isolate,
        ...hub.counts,
        /** Seconds since this isolate loaded the module. */
        uptime: Math.round(performance.now() - STARTED_AT) / 1000,
      },
      { headers: { "cache-control": "no-store" } },
    );
  },
};
