/**
 * The HTTP answers of the PeerJS face: `GET /peerjs/<key>/id` and
 * `GET /peerjs/<key>/peers`, as `peer` 1.0.x gives them, plus the 404 of
 * every `/peerjs` path while `PARLEY_PEERJS=off`.
 *
 * @module
 */
import type { PeerjsServer } from "./server.ts";

/**
 * `GET /peerjs/<key>/id`: a fresh id for `new Peer()`, as text. Whatever the
 * key, as from PeerJS: a wrong key is refused on the WebSocket, where the
 * client reports it as `invalid-key`. With access tokens the id must be the
 * token's subject, so none is handed out (401).
 *
 * @example
 * ```ts ignore
 * return await answerId(peerjs);
 * ```
 */
export async function answerId(peerjs: PeerjsServer): Promise<Response> {
  if (peerjs.requiresTokens) {
    return Response.json({
      code: "UNAUTHORIZED",
      message:
        "Cannot hand out a PeerJS id as this server requires access tokens: use new Peer(<the token's sub>, { token })",
    }, { status: 401 });
  }
  return new Response(await peerjs.newId(), {
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/**
 * `GET /peerjs/<key>/peers`: the ids connected on every isolate, as a JSON
 * array, only with `PARLEY_PEERJS_DISCOVERY=on` and this server's key; 401
 * otherwise, as PeerJS answers without `allow_discovery`.
 *
 * @example
 * ```ts ignore
 * return await answerPeers(peerjs, ctx.params.key);
 * ```
 */
export async function answerPeers(peerjs: PeerjsServer, key: string): Promise<Response> {
  if (!peerjs.settings.discovery || key !== peerjs.settings.key) {
    return Response.json({
      code: "UNAUTHORIZED",
      message:
        "Cannot list PeerJS peers as discovery is off (PARLEY_PEERJS_DISCOVERY) or the key is not this server's",
    }, { status: 401 });
  }
  return Response.json(await peerjs.peers(), { headers: { "cache-control": "no-store" } });
}

/**
 * The answer of every `/peerjs` path while `PARLEY_PEERJS=off`: 404 with a
 * typed body that names the setting.
 *
 * @example
 * ```ts ignore
 * const peerjs = await sharedPeerjs();
 * if (peerjs === null) return peerjsOff();
 * ```
 */
export function peerjsOff(): Response {
  return Response.json({
    code: "NOT_FOUND",
    message: "Cannot serve PeerJS as this server runs with PARLEY_PEERJS=off",
  }, { status: 404 });
}
