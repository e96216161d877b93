import type { Handlers } from "$fresh/server.ts";
import { answerPeers, peerjsOff, sharedPeerjs } from "../../../lib/server/mod.ts";

/** `GET /peerjs/<key>/peers`: the connected ids, only with `PARLEY_PEERJS_DISCOVERY=on`. */
export const handler: Handlers = {
  async GET(_req, ctx) {
    const peerjs = await sharedPeerjs();
    return peerjs ? await answerPeers(peerjs, ctx.params.key) : peerjsOff();
  },
};
