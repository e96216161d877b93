import type { Handlers } from "$fresh/server.ts";
import { peerjsOff, sharedPeerjs } from "../../lib/server/mod.ts";

/**
 * `GET /peerjs/peerjs?key=&id=&token=`: the WebSocket of PeerJS clients
 * created with `path: "/peerjs"`. The connection info goes along for the
 * client's address (the per-address limits).
 */
export const handler: Handlers = {
  async GET(req, ctx) {
    const peerjs = await sharedPeerjs();
    return peerjs ? await peerjs.handle(req, ctx.info) : peerjsOff();
  },
};
