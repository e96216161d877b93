/**
 * Parley's signaling server: the hub of each isolate, its presence in
 * Deno KV, the PeerJS server protocol over the same core, and the settings
 * an operator may change.
 *
 * @example
 * ```ts ignore
 * import { createHub } from "./mod.ts";
 * const hub = createHub({ kv: await Deno.openKv() });
 * Deno.serve((req) => hub.handle(req));
 * ```
 *
 * @module
 */
export { createHub, Hub, type HubOptions } from "./hub.ts";
export { AuthError, tokenOf, verifyToken } from "./auth.ts";
export { iceServers } from "./ice.ts";
export { corsHeaders, preflight } from "./origins.ts";
export { sharedHub } from "./instance.ts";
export { listRooms, listRoomUsers } from "./http_lists.ts";
export {
  answerId,
  answerPeers,
  createPeerjsServer,
  type PeerClaim,
  PEERJS_KEYS,
  peerjsOff,
  PeerjsServer,
  type PeerjsServerOptions,
  sharedPeerjs,
} from "./peerjs/mod.ts";
export type { ConnectionRecord, GroupsQuery, UsersQuery } from "./presence.ts";
export type { Target } from "./registry.ts";
export {
  CLUSTER_DEFAULTS,
  clusterFromEnv,
  type ClusterSettings,
  limitsFromEnv,
  securityFromEnv,
  SETTINGS_ENV,
} from "./settings.ts";
