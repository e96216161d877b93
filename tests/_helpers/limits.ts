/**
 * The abuse limits that tests and the bench lift out of the way, written
 * once: every test client connects from 127.0.0.1 and sends as fast as it
 * can, so a per-address, per-room or per-connection limit would bind where
 * the test is about something else. A test of a limit sets its own value on
 * top (`{ ...LIFTED_LIMITS, PARLEY_MAX_USERS_PER_ROOM: "5" }`).
 *
 * @example
 * ```ts ignore
 * import { LIFTED_LIMITS, LIFTED_RATE_LIMIT } from "./limits.ts";
 * await using app = await startApp({ env: { ...LIFTED_RATE_LIMIT } }); // startApp lifts LIFTED_LIMITS itself
 * ```
 *
 * @module
 */

/**
 * The per-address and per-room limits, as the app's environment: far above
 * anything a test opens. `startApp` sets them for every app it starts (unless
 * `bareEnv`); the test hubs' `TEST_SECURITY` (./hub.ts) is read from them.
 *
 * @example
 * ```ts
 * import { LIFTED_LIMITS } from "./limits.ts";
 * const env = { ...LIFTED_LIMITS, PARLEY_MAX_CONNECTIONS_PER_IP: "3" };
 * ```
 */
export const LIFTED_LIMITS: Readonly<Record<string, string>> = Object.freeze({
  PARLEY_MAX_CONNECTIONS_PER_IP: "1000000",
  PARLEY_MAX_JOINS_PER_MINUTE: "1000000",
  PARLEY_MAX_CONNECTS_PER_MINUTE: "1000000",
  PARLEY_MAX_USERS_PER_ROOM: "1000000",
});

/**
 * The per-connection message rate limit, lifted for load: the bench's relay
 * rows and the cluster tests send as fast as they can. Not set by default:
 * most tests keep the app's own rate limit.
 *
 * @example
 * ```ts
 * import { LIFTED_RATE_LIMIT } from "./limits.ts";
 * const env = { DENO_JOBS: "2", ...LIFTED_RATE_LIMIT };
 * ```
 */
export const LIFTED_RATE_LIMIT: Readonly<Record<string, string>> = Object.freeze({
  PARLEY_RATE_LIMIT: "1000000000",
  PARLEY_RATE_BURST: "1000000000",
});
