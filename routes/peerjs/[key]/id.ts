import type { Handlers } from "$fresh/server.ts";
import { answerId, peerjsOff, sharedPeerjs } from "../../../lib/server/mod.ts";

/** `GET /peerjs/<key>/id`: a fresh id for `new Peer()`, as PeerJS hands it out. */
export const handler: Handlers = {
  async GET() {
    const peerjs = await sharedPeerjs();
    return peerjs ? await answerId(peerjs) : peerjsOff();
  },
};
