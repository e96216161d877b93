/**
 * Parley as a PeerJS server: the protocol `peer` 1.0.x speaks to the
 * `peerjs` client, at `/peerjs`, over the hub's core (admission, limits,
 * registry, bus), with ids claimed in KV so that one id is one peer across
 * every isolate.
 *
 * @example
 * ```ts ignore
 * import { createPeerjsServer } from "./mod.ts";
 * const peerjs = createPeerjsServer({ hub });
 * Deno.serve((req, info) => peerjs.handle(req, info));
 * ```
 *
 * @module
 */
export { createPeerjsServer, PeerjsServer, type PeerjsServerOptions } from "./server.ts";
export { sharedPeerjs } from "./instance.ts";
export { answerId, answerPeers, peerjsOff } from "./http.ts";
export { type PeerClaim, PEERJS_KEYS } from "./claims.ts";
