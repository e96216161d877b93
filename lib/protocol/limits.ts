/**
 * The limits of the wire, shared by the server (which enforces them) and
 * the SDK (which checks them before sending, so a bad call never costs a
 * round trip or the connection).
 *
 * @module
 */

/**
 * Version of the wire protocol, sent in the URL (`v`) and, as the server
 * will speak it on this connection, in the welcome frame. v2 adds the
 * `notices` frame: the notices a socket gets within one tick, in one frame.
 * v3 lets a `signal` go without `id`: it gets no ack, and when it cannot be
 * relayed the `error` frame names it in `signal` (`{ to, call, kind }`).
 */
export const PROTOCOL_VERSION = 3;

/**
 * The versions a server speaks: a client that names none speaks v1 (no
 * `notices` frame); one that names another is refused (close 4002). The
 * welcome echoes the client's version, so an older SDK keeps working.
 */
export const PROTOCOL_VERSIONS: readonly number[] = [1, 2, 3];

/**
 * The first version whose servers relay a `signal` without `id` (unacked):
 * an SDK told an older version in the welcome asks for acks instead.
 *
 * @example
 * ```ts
 * import { UNACKED_SIGNALS_SINCE } from "./mod.ts";
 * const welcome = { v: 2 };
 * const needsId = welcome.v < UNACKED_SIGNALS_SINCE; // true: an older server acks every signal
 * ```
 */
export const UNACKED_SIGNALS_SINCE = 3;

/**
 * The defaults of every limit. The ones an operator may change are read
 * from the environment by the server (see `lib/server/settings.ts`).
 *
 * @example Check a payload before sending
 * ```ts
 * import { LIMITS, payloadBytes } from "./mod.ts";
 * const fits = payloadBytes({ text: "hi" }) <= LIMITS.maxPayloadBytes;
 * ```
 */
export const LIMITS = {
  /** Largest text frame the server reads; larger ones close the socket (1009). */
  maxFrameBytes: 64 * 1024,
  /** Largest `message` of a post, measured as UTF-8 JSON. */
  maxPayloadBytes: 32 * 1024,
  /** Deepest nesting of objects and arrays inside a `message`. */
  maxPayloadDepth: 32,
  /** Longest group (room) name, in characters. */
  maxGroupNameLength: 64,
  /** Longest display name, in characters. */
  maxDisplayNameLength: 64,
  /** Most rows one `users` or `groups` page returns. */
  maxPageSize: 1000,
  /** Rows of a page when the caller names no limit (Skapi's default). */
  defaultPageSize: 100,
  /** Messages per second one connection may send on average. */
  rateLimit: 50,
  /** Messages one connection may send in a burst. */
  rateBurst: 100,
  /** Frames sent while rate-limited, in a row, before the socket is closed. */
  maxRejectedInARow: 100,
  /**
   * The heartbeat's period: a socket quiet for a whole period gets the
   * application's `ping` (whose `pong` carries `received`); an idle one gets
   * one every second period, inside the 60 s after which platforms cut idle
   * sockets. The welcome's `heartbeat` is twice this: the longest a live
   * connection goes without a frame from the server.
   */
  heartbeatMs: 25_000,
  /** How long a dropped connection waits for its client to resume it. */
  resumeGraceMs: 30_000,
  /** Frames kept for a resume (unacknowledged by the client); older ones are dropped. */
  resumeBufferFrames: 1000,
  /** Bytes kept for a resume, at most. */
  resumeBufferBytes: 256 * 1024,
  /**
   * Bytes queued for one socket (sent by the server, not yet taken by the
   * network) past which its connection is suspended as a slow reader.
   */
  maxBufferedBytes: 1024 * 1024,
  /** Longest SDP carried by an RTC `description` signal. */
  maxSdpBytes: 60 * 1024,
  /** Longest ICE candidate line. */
  maxCandidateBytes: 1024,
  /** Longest request id, call id or other short token. */
  maxTokenLength: 64,
} as const;

/** The shape of {@linkcode LIMITS}, with numbers an operator may override. */
export type Limits = { -readonly [K in keyof typeof LIMITS]: number };

/**
 * Group (room) names, as in Skapi: any text of 1–64 characters, spaces
 * included ("Another Group Name") — but no control characters: the bus
 * encodes a group name in a tab-separated line, and a newline or a tab in a
 * name would forge another.
 */
// deno-lint-ignore no-control-regex
export const GROUP_NAME_PATTERN = /^[^\u0000-\u001f\u007f]{1,64}$/;

/** user_ids are UUIDs (any version). */
export const USER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** cids are `"cid:"` and at least 128 random bits in base64url. */
export const CID_PATTERN = /^cid:[A-Za-z0-9_-]{22,86}$/;

/**
 * Whether `name` may name a group (room).
 *
 * @example
 * ```ts
 * import { isGroupName } from "./mod.ts";
 * isGroupName("Another Group Name"); // true
 * isGroupName("line\nbreak"); // false
 * ```
 */
export function isGroupName(name: unknown): name is string {
  return typeof name === "string" && GROUP_NAME_PATTERN.test(name);
}

/**
 * Whether `id` is a user_id (a UUID).
 *
 * @example
 * ```ts
 * import { isUserId } from "./mod.ts";
 * isUserId(crypto.randomUUID()); // true
 * ```
 */
export function isUserId(id: unknown): id is string {
  return typeof id === "string" && USER_ID_PATTERN.test(id);
}

/**
 * Whether `cid` is a connection id.
 *
 * @example
 * ```ts
 * import { isCid } from "./mod.ts";
 * isCid("cid:AAAAAAAAAAAAAAAAAAAAAA"); // true
 * ```
 */
export function isCid(cid: unknown): cid is string {
  return typeof cid === "string" && CID_PATTERN.test(cid);
}

const encoder = new TextEncoder();

/**
 * UTF-8 size of a value once written as JSON: what a payload limit counts.
 *
 * @example
 * ```ts
 * import { payloadBytes } from "./mod.ts";
 * payloadBytes("é"); // 4: two quotes and two bytes
 * ```
 */
export function payloadBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value) ?? "").byteLength;
}

/**
 * UTF-8 size of a string, without encoding it when its length already
 * settles the question against `limit` (a UTF-16 unit is 1–3 UTF-8 bytes).
 *
 * @example
 * ```ts
 * import { exceedsBytes } from "./mod.ts";
 * exceedsBytes("hello", 4); // true
 * ```
 */
export function exceedsBytes(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return encoder.encode(text).byteLength > limit;
}
