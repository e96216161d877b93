import type { Handlers } from "$fresh/server.ts";

/** Made once per isolate, so `deno serve --parallel` answers tell isolates apart. */
const ISOLATE_ID = crypto.randomUUID();
const STARTED_AT = performance.now();

export const handler: Handlers = {
  GET() {
    return Response.json(
      {
        ok: true,
        isolate: ISOLATE_ID,
        /** Seconds since this isolate loaded the module. */
        uptime: Math.round(performance.now() - STARTED_AT) / 1000,
      },
      { headers: { "cache-control": "no-store" } },
    );
  },
};
