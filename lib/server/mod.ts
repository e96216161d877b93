/**
 * Parley's signaling server: the hub of each isolate, its presence in
 * Deno KV, and the settings an operator may change.
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
export { sharedHub } from "./instance.ts";
export { listRooms, listRoomUsers } from "./http_lists.ts";
export type { ConnectionRecord, GroupsQuery, UsersQuery } from "./presence.ts";
export type { Target } from "./registry.ts";
export {
  CLUSTER_DEFAULTS,
  clusterFromEnv,
  type ClusterSettings,
  limitsFromEnv,
  SETTINGS_ENV,
} from "./settings.ts";
