/**
 * Parley's client SDK: Skapi's Realtime (and WebRTC) API over a Parley
 * server. Works in browsers and in Deno; browsers load it as `/sdk.js`.
 *
 * @example
 * ```ts ignore
 * import { RealtimeClient } from "./mod.ts";
 * const skapi = new RealtimeClient({ url: "ws://localhost:8000/api/realtime" });
 * await skapi.connectRealtime((rt) => console.log(rt));
 * await skapi.joinRealtime({ group: "lobby" });
 * ```
 *
 * @module
 */
export {
  type GroupsParams,
  REALTIME_TEXTS,
  RealtimeClient,
  type RealtimeClientOptions,
  type RealtimeUser,
  type Success,
} from "./client.ts";
export type { FormInput, SubmitEventLike } from "./forms.ts";
export type { FetchOptions } from "./pages.ts";
export { DEFAULT_TIMEOUTS, type Timeouts } from "./defaults.ts";
export { RealtimeError } from "./errors.ts";
export { SDK_VERSION } from "./version.ts";
export * from "./events.ts";
export * from "./rtc/mod.ts";
export { PROTOCOL_VERSION } from "../protocol/mod.ts";
export type { ErrorCode, GroupRow, Json, Page, UserRow } from "../protocol/mod.ts";
