import type { Handlers } from "$fresh/server.ts";
import { sharedHub } from "../../lib/server/mod.ts";

/**
 * `GET /api/realtime`: the WebSocket signaling endpoint. The connection info
 * goes along for the client's address (the per-address limits).
 */
export const handler: Handlers = {
  async GET(req, ctx) {
    return await (await sharedHub()).handle(req, ctx.info);
  },
};
