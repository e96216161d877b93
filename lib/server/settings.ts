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

/** How this isolate works with the others of its deployment. */
export interface ClusterSettings {
  /**
   * Whether events to other isolates also go over a `BroadcastChannel` (the
   * fast path); KV carries every event either way. `PARLEY_BROADCAST=off`
   * turns it off.
   * @default true
   */
  broadcast: boolean;
  /**
   * TEST KNOB, not for production: the share (0–1) of BroadcastChannel
   * messages the sender drops on purpose, to prove that KV alone delivers.
   * `PARLEY_BROADCAST_DROP`.
   * @default 0
   */
  broadcastDrop: number;
  /**
   * How long an isolate counts as alive after its last beat (it beats every
   * third of this). A dead isolate's connections are removed within about
   * 1⅓ × this. `PARLEY_ISOLATE_TTL_MS`.
   * @default 15000
   */
  isolateTtlMs: number;
  /**
   * The backstop `expireIn` of inbox entries, which are normally deleted as
   * soon as they are delivered. `PARLEY_INBOX_EXPIRE_MS`.
   * @default 600000
   */
  inboxExpireMs: number;
}

/** The defaults of {@linkcode ClusterSettings}. */
export const CLUSTER_DEFAULTS: Readonly<ClusterSettings> = {
  broadcast: true,
  broadcastDrop: 0,
  isolateTtlMs: 15_000,
  inboxExpireMs: 600_000,
};

/**
 * The cluster settings with the environment's overrides applied.
 *
 * @throws {RangeError} When a variable is set to a value out of its range.
 *
 * @example
 * ```ts
 * import { clusterFromEnv } from "./settings.ts";
 * const settings = clusterFromEnv({ PARLEY_BROADCAST: "off" });
 * console.log(settings.broadcast); // false
 * ```
 */
export function clusterFromEnv(
  env: Record<string, string | undefined> = readEnv(),
): ClusterSettings {
  const settings = { ...CLUSTER_DEFAULTS };
  const broadcast = env.PARLEY_BROADCAST;
  if (broadcast !== undefined && broadcast !== "") {
    if (!["on", "off"].includes(broadcast)) {
      throw new RangeError(
        `Cannot read PARLEY_BROADCAST as it must be "on" or "off": current value is "${broadcast}"`,
      );
    }
    settings.broadcast = broadcast === "on";
  }
  const number = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new RangeError(
        `Cannot read ${name} as it must be a number from ${min} to ${max}: current value is "${raw}"`,
      );
    }
    return value;
  };
  settings.broadcastDrop = number("PARLEY_BROADCAST_DROP", 0, 1) ?? settings.broadcastDrop;
  settings.isolateTtlMs = number("PARLEY_ISOLATE_TTL_MS", 300, 3_600_000) ?? settings.isolateTtlMs;
  settings.inboxExpireMs = number("PARLEY_INBOX_EXPIRE_MS", 1_000, 30 * 86_400_000) ??
    settings.inboxExpireMs;
  return settings;
}

function readEnv(): Record<string, string | undefined> {
  try {
    return Deno.env.toObject();
  } catch {
    return {}; // no --allow-env: the defaults
  }
}
