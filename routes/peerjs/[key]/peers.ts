import type { Handlers } from "$fresh/server.ts";
import { sharedPeerjs } from "../../../lib/server/peerjs/mod.ts";
import { notFound } from "./id.ts";

/**
 * `GET /peerjs/<key>/peers`: the ids connected on every isolate, as a JSON
 * array — only with `PARLEY_PEERJS_DISCOVERY=on` and the right key; 401
 * otherwise, as PeerJS answers without `allow_discovery`.
 */
export const handler: Handlers = {
  async GET(_req, ctx) {
    const peerjs = await sharedPeerjs();
    if (!peerjs) return notFound();
    if (!peerjs.settings.discovery || ctx.params.key !== peerjs.settings.key) {
      return Response.json({
        code: "UNAUTHORIZED",
        message:
          "Cannot list PeerJS peers as discovery is off (PARLEY_PEERJS_DISCOVERY) or the key is not this server's",
      }, { status: 401 });
    }
    return Response.json(await peerjs.peers(), { headers: { "cache-control": "no-store" } });
  },
};
