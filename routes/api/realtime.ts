import type { Handlers } from "$fresh/server.ts";
import { sharedHub } from "../../lib/server/mod.ts";

/** `GET /api/realtime`: the WebSocket signaling endpoint. */
export const handler: Handlers = {
  async GET(req) {
    return (await sharedHub()).handle(req);
  },
};
