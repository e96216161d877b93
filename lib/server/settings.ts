// Over 300 lines: every setting with its default and its parse, read as one table.
/**
 * Settings an operator may change, read once from the environment with the
 * protocol's limits as defaults.
 *
 * @module
 */
import { LIMITS, type Limits, PEERJS_DEFAULTS } from "../protocol/mod.ts";

/** Environment variables the server reads, each with its default. */
export const SETTINGS_ENV = {
  /** Messages per second per connection. @default 50 */
  PARLEY_RATE_LIMIT: "rateLimit",
  /** Messages per connection in a burst. @default 100 */
  PARLEY_RATE_BURST: "rateBurst",
  /**
   * The heartbeat's period: each one, a socket quiet for a whole period gets
   * the application's ping (an idle one so every second period), and one
   * that left its ping unanswered for a period is closed. @default 25000
   */
  PARLEY_HEARTBEAT_MS: "heartbeatMs",
  /** Milliseconds a dropped connection waits for its client to resume it. @default 30000 */
  PARLEY_RESUME_GRACE_MS: "resumeGraceMs",
  /** Bytes queued for a slow reader before its connection is suspended. @default 1048576 */
  PARLEY_MAX_BUFFERED_BYTES: "maxBufferedBytes",
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
  /**
   * How often this isolate checks its presence records against its live
   * connections and repairs what a failed write left behind: the backstop,
   * as a leave KV refused has its record removed a second after it failed
   * (`Presence.repairLeaves`). Each check reads every presence
   * record in KV: at 10,000 connections, once every 10 s cost 1.5 % of a
   * core on an idle server. `PARLEY_PRESENCE_REPAIR_MS`.
   * @default 60000
   */
  presenceRepairMs: number;
  /**
   * How long KV commits may keep failing before posts and signals bound for
   * other isolates are refused with `UNAVAILABLE` instead of waiting for
   * their ack (ms).
   * @default 5000
   */
  unavailableAfterMs: number;
}

/** The defaults of {@linkcode ClusterSettings}. */
export const CLUSTER_DEFAULTS: Readonly<ClusterSettings> = {
  broadcast: true,
  broadcastDrop: 0,
  isolateTtlMs: 15_000,
  inboxExpireMs: 600_000,
  presenceRepairMs: 60_000,
  unavailableAfterMs: 5_000,
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
  settings.presenceRepairMs = number("PARLEY_PRESENCE_REPAIR_MS", 100, 3_600_000) ??
    settings.presenceRepairMs;
  return settings;
}

/**
 * Who may connect, from where, and how much: access tokens, allowed
 * origins and the abuse limits. Each field names its variable.
 */
export interface SecuritySettings {
  /**
   * The HS256 secret access tokens are signed with. Set, every connection
   * (and `/api/ice`) needs a valid token; unset, Parley is open and
   * anonymous. `PARLEY_AUTH_SECRET`.
   * @default null
   */
  authSecret: string | null;
  /**
   * Origins whose pages may open the WebSocket and read the HTTP API
   * (`https://app.example.com`, comma-separated); the app's own origin is
   * always allowed. `ALLOWED_ORIGINS`.
   * @default null (any origin)
   */
  allowedOrigins: string[] | null;
  /**
   * The secret anonymous identity proofs are signed with.
   * `PARLEY_IDENTITY_SECRET`; unset, one is generated at first start and
   * kept in KV (see `identity.ts`).
   * @default null
   */
  identitySecret: string | null;
  /**
   * Open sockets per client address, on each isolate: high enough for an
   * office or a school behind one NAT. `PARLEY_MAX_CONNECTIONS_PER_IP`.
   * @default 2000
   */
  maxConnectionsPerIp: number;
  /**
   * Joins per client address per minute, on each isolate.
   * `PARLEY_MAX_JOINS_PER_MINUTE`.
   * @default 2000
   */
  maxJoinsPerMinute: number;
  /**
   * New connections (resumes included) per client address per minute, on
   * each isolate: 500 people behind one address join within a minute.
   * `PARLEY_MAX_CONNECTS_PER_MINUTE`.
   * @default 1000
   */
  maxConnectsPerMinute: number;
  /** Connections in one room, counted in KV across isolates. `PARLEY_MAX_USERS_PER_ROOM`. @default 500 */
  maxUsersPerRoom: number;
  /**
   * How many proxies in front of Parley append to `X-Forwarded-For`; the
   * client address is the entry that many places from the right. 0 means
   * the header is ignored and the socket's address is used.
   * `PARLEY_TRUST_PROXY`.
   * @default 0
   */
  trustProxy: number;
  /**
   * Addresses of the reverse proxies in front of Parley (comma-separated IPs).
   * Only a request whose socket comes from one of them has its client address
   * taken from `Forwarded` / `X-Forwarded-For` (the rightmost entry that is not
   * itself a trusted proxy); from anyone else those headers are ignored.
   * `PARLEY_TRUSTED_PROXIES`.
   * @default []
   */
  trustedProxies: string[];
}

/** The defaults of {@linkcode SecuritySettings}. */
export const SECURITY_DEFAULTS: Readonly<SecuritySettings> = {
  authSecret: null,
  identitySecret: null,
  allowedOrigins: null,
  maxConnectionsPerIp: 2000,
  maxJoinsPerMinute: 2000,
  maxConnectsPerMinute: 1000,
  maxUsersPerRoom: 500,
  trustProxy: 0,
  trustedProxies: [],
};

/**
 * The security settings with the environment's overrides applied.
 *
 * @throws {RangeError} When a limit is not a positive integer, or an origin is not an origin.
 *
 * @example
 * ```ts
 * import { securityFromEnv } from "./settings.ts";
 * const settings = securityFromEnv({ ALLOWED_ORIGINS: "https://a.example, https://b.example" });
 * console.log(settings.allowedOrigins); // ["https://a.example", "https://b.example"]
 * ```
 */
export function securityFromEnv(
  env: Record<string, string | undefined> = readEnv(),
): SecuritySettings {
  const settings = { ...SECURITY_DEFAULTS };
  if (env.PARLEY_AUTH_SECRET) settings.authSecret = env.PARLEY_AUTH_SECRET;
  if (env.PARLEY_IDENTITY_SECRET) settings.identitySecret = env.PARLEY_IDENTITY_SECRET;
  settings.trustedProxies = (env.PARLEY_TRUSTED_PROXIES ?? "").split(",").map((a) => a.trim())
    .filter(Boolean).map((address) => {
      if (!/^[0-9.]+$|^[0-9a-f:]+$/i.test(address)) {
        throw new RangeError(
          `Cannot read PARLEY_TRUSTED_PROXIES as each entry must be an IP address: current value is "${address}"`,
        );
      }
      return address.toLowerCase();
    });
  const origins = (env.ALLOWED_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean);
  if (origins.length > 0 && !origins.includes("*")) {
    settings.allowedOrigins = origins.map((origin) => {
      let parsed: URL | null = null;
      try {
        parsed = new URL(origin);
      } catch { /* reported below */ }
      if (!parsed || parsed.origin === "null" || parsed.origin !== origin.replace(/\/$/, "")) {
        throw new RangeError(
          `Cannot read ALLOWED_ORIGINS as each entry must be an origin like https://app.example.com: current value is "${origin}"`,
        );
      }
      return parsed.origin;
    });
  }
  const integer = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(
        `Cannot read ${name} as it must be an integer of at least ${min}: current value is "${raw}"`,
      );
    }
    return value;
  };
  settings.maxConnectionsPerIp = integer("PARLEY_MAX_CONNECTIONS_PER_IP", 1) ??
    settings.maxConnectionsPerIp;
  settings.maxJoinsPerMinute = integer("PARLEY_MAX_JOINS_PER_MINUTE", 1) ??
    settings.maxJoinsPerMinute;
  settings.maxConnectsPerMinute = integer("PARLEY_MAX_CONNECTS_PER_MINUTE", 1) ??
    settings.maxConnectsPerMinute;
  settings.maxUsersPerRoom = integer("PARLEY_MAX_USERS_PER_ROOM", 1) ?? settings.maxUsersPerRoom;
  settings.trustProxy = integer("PARLEY_TRUST_PROXY", 0) ?? settings.trustProxy;
  return settings;
}

/** The PeerJS server face at `/peerjs` (see `lib/server/peerjs`). Each field names its variable. */
export interface PeerjsSettings {
  /** Whether `/peerjs` is served at all. `PARLEY_PEERJS` (`on` / `off`). @default true */
  enabled: boolean;
  /** The API key clients must send (PeerJS's `key` option). `PARLEY_PEERJS_KEY`. @default "peerjs" */
  key: string;
  /**
   * Whether `GET /peerjs/<key>/peers` lists the connected ids (PeerJS's
   * `allow_discovery`). `PARLEY_PEERJS_DISCOVERY` (`on` / `off`).
   * @default false
   */
  discovery: boolean;
  /**
   * A peer not heard from (the client beats every 5 s) for this long is
   * dropped, as by PeerJS's `alive_timeout`. `PARLEY_PEERJS_ALIVE_TIMEOUT_MS`.
   * @default 90000
   */
  aliveTimeoutMs: number;
  /**
   * How long a frame for a peer that is not connected waits before its
   * sender gets `EXPIRE` (PeerJS's `expire_timeout`).
   * `PARLEY_PEERJS_EXPIRE_TIMEOUT_MS`.
   * @default 5000
   */
  expireTimeoutMs: number;
}

/** The defaults of {@linkcode PeerjsSettings}. */
export const PEERJS_SETTINGS_DEFAULTS: Readonly<PeerjsSettings> = {
  enabled: true,
  key: PEERJS_DEFAULTS.key,
  discovery: false,
  aliveTimeoutMs: PEERJS_DEFAULTS.aliveTimeoutMs,
  expireTimeoutMs: PEERJS_DEFAULTS.expireTimeoutMs,
};

/**
 * The PeerJS settings with the environment's overrides applied.
 *
 * @throws {RangeError} When a switch is not `on` / `off`, the key is empty or
 * holds other than letters, digits, `-` and `_`, or a timeout is out of range.
 *
 * @example
 * ```ts
 * import { peerjsFromEnv } from "./settings.ts";
 * const settings = peerjsFromEnv({ PARLEY_PEERJS_DISCOVERY: "on" });
 * console.log(settings.discovery, settings.key); // true "peerjs"
 * ```
 */
export function peerjsFromEnv(
  env: Record<string, string | undefined> = readEnv(),
): PeerjsSettings {
  const settings = { ...PEERJS_SETTINGS_DEFAULTS };
  const toggle = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (raw !== "on" && raw !== "off") {
      throw new RangeError(
        `Cannot read ${name} as it must be "on" or "off": current value is "${raw}"`,
      );
    }
    return raw === "on";
  };
  settings.enabled = toggle("PARLEY_PEERJS", settings.enabled);
  settings.discovery = toggle("PARLEY_PEERJS_DISCOVERY", settings.discovery);
  const key = env.PARLEY_PEERJS_KEY;
  if (key !== undefined && key !== "") {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) {
      throw new RangeError(
        `Cannot read PARLEY_PEERJS_KEY as it must be 1–64 letters, digits, '-' or '_': current value is "${key}"`,
      );
    }
    settings.key = key;
  }
  const ms = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 100 || value > 3_600_000) {
      throw new RangeError(
        `Cannot read ${name} as it must be an integer from 100 to 3600000 (ms): current value is "${raw}"`,
      );
    }
    return value;
  };
  settings.aliveTimeoutMs = ms("PARLEY_PEERJS_ALIVE_TIMEOUT_MS", settings.aliveTimeoutMs);
  settings.expireTimeoutMs = ms("PARLEY_PEERJS_EXPIRE_TIMEOUT_MS", settings.expireTimeoutMs);
  return settings;
}

function readEnv(): Record<string, string | undefined> {
  try {
    return Deno.env.toObject();
  } catch {
    return {}; // no --allow-env: the defaults
  }
}
