/**
 * Settings an operator may change, read once from the environment with the
 * protocol's limits as defaults.
 *
 * @module
 */
import { LIMITS, type Limits } from "../protocol/mod.ts";

/** Environment variables the server reads, each with its default. */
export const SETTINGS_ENV = {
  /** Messages per second per connection. @default 50 */
  PARLEY_RATE_LIMIT: "rateLimit",
  /** Messages per connection in a burst. @default 100 */
  PARLEY_RATE_BURST: "rateBurst",
  /** Milliseconds between pings. @default 25000 */
  PARLEY_HEARTBEAT_MS: "heartbeatMs",
} as const satisfies Record<string, keyof Limits>;

/**
 * The protocol's limits with the environment's overrides applied.
 *
 * @throws {RangeError} When a variable is set but is not a positive number.
 *
 * @example
 * ```ts
 * import { limitsFromEnv } from "./settings.ts";
 * const limits = limitsFromEnv({ PARLEY_RATE_LIMIT: "200" });
 * console.log(limits.rateLimit); // 200
 * ```
 */
export function limitsFromEnv(
  env: Record<string, string | undefined> = readEnv(),
): Limits {
  const limits: Limits = { ...LIMITS };
  for (const [name, key] of Object.entries(SETTINGS_ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(
        `Cannot read ${name} as it must be a positive number: current value is "${raw}"`,
      );
    }
    limits[key] = value;
  }
  return limits;
}

function readEnv(): Record<string, string | undefined> {
  try {
    return Deno.env.toObject();
  } catch {
    return {}; // no --allow-env: the defaults
  }
}
