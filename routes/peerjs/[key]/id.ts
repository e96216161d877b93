import type { Handlers } from "$fresh/server.ts";
import { sharedHub } from "../../../lib/server/mod.ts";
import { sharedPeerjs } from "../../../lib/server/peerjs/mod.ts";

/** The answer of every `/peerjs` path while `PARLEY_PEERJS=off`. */
export function notFound(): Response {
  return Response.json({
    code: "NOT_FOUND",
    message: "Cannot serve PeerJS as this server runs with PARLEY_PEERJS=off",
  }, { status: 404 });
}

/**
 * `GET /peerjs/<key>/id`: a fresh id for `new Peer()` (no id of its own),
 * as text, like PeerJS. Whatever the key, as PeerJS does: a wrong key is
 * refused on the WebSocket, where the client reports it as `invalid-key`.
 * With access tokens the id must be the token's subject, so none is handed
 * out.
 */
export const handler: Handlers = {
  async GET() {
    const peerjs = await sharedPeerjs();
    if (!peerjs) return notFound();
    if ((await sharedHub()).admission.settings.authSecret !== null) {
      return Response.json({
        code: "UNAUTHORIZED",
        message:
          "Cannot hand out a PeerJS id as this server requires access tokens: use new Peer(<the token's sub>, { token })",
      }, { status: 401 });
    }
    return new Response(await peerjs.newId(), {
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  },
};
