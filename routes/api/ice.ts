import type { Handlers } from "$fresh/server.ts";
import { iceServers } from "../../lib/server/ice.ts";

/** `GET /api/ice`: the ICE servers for a call (see lib/server/ice.ts for the env). */
export const handler: Handlers = {
  async GET() {
    return Response.json(await iceServers(), {
      headers: { "cache-control": "no-store" },
    });
  },
};
