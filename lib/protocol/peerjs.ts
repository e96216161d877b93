/**
 * The PeerJS server protocol, as `peer` 1.0.x speaks it to the `peerjs`
 * client: the frames both ways, its defaults, and the one gate every
 * inbound PeerJS frame passes ({@linkcode parsePeerjsFrame}). Parley serves
 * it at `/peerjs` beside its own protocol; the server stamps `src` on what
 * it relays, so nothing a client says about who it is is trusted.
 *
 * @example Parse what a PeerJS client sent
 * ```ts
 * import { parsePeerjsFrame } from "./peerjs.ts";
 * const frame = parsePeerjsFrame('{"type":"OFFER","dst":"bob","payload":{"sdp":"…"}}');
 * console.log(frame?.type); // "OFFER"
 * ```
 *
 * @module
 */
import { LIMITS, type Limits } from "./limits.ts";
import { checkDepth, isObject, reject } from "./_util.ts";

/** Frames a PeerJS server passes from one peer to another, `src` stamped. */
export const PEERJS_RELAYED_TYPES = ["OFFER", "ANSWER", "CANDIDATE", "LEAVE", "EXPIRE"] as const;
/** One of {@linkcode PEERJS_RELAYED_TYPES}. */
export type PeerjsRelayedType = typeof PEERJS_RELAYED_TYPES[number];

/** Frames a PeerJS client sends: the relayed ones and its keep-alive. */
export const PEERJS_CLIENT_TYPES = ["HEARTBEAT", ...PEERJS_RELAYED_TYPES] as const;

/** A frame from a PeerJS client. */
export type PeerjsClientFrame =
  | { type: "HEARTBEAT" }
  | { type: PeerjsRelayedType; dst: string | undefined; payload?: unknown };

/** A frame to a PeerJS client. */
export type PeerjsServerFrame =
  | { type: "OPEN" }
  | { type: "ID-TAKEN" | "INVALID-KEY" | "ERROR"; payload: { msg: string } }
  | { type: PeerjsRelayedType; src: string; dst: string; payload?: unknown };

/**
 * What the server says when it refuses a socket. The first four are
 * `peer` 1.0.x's own words (its `Errors` enum), so PeerJS apps that match
 * on them keep working.
 */
export const PEERJS_MESSAGES = {
  invalidKey: "Invalid key provided",
  invalidToken: "Invalid token provided",
  invalidParameters: "No id, token, or key supplied to websocket server",
  idTaken: "ID is taken",
  invalidId:
    "Invalid id: use 1–128 letters, digits and single '-', '_' or ' ' between them (PeerJS's rule)",
} as const;

/** PeerJS's timings and Parley's bounds on what a PeerJS peer may hold. */
export const PEERJS_DEFAULTS = {
  /** The key PeerJS clients send unless told otherwise (`peer`'s default). */
  key: "peerjs",
  /** A peer not heard from for this long is dropped (`peer`'s `alive_timeout`). */
  aliveTimeoutMs: 90_000,
  /** A frame for a peer that is not connected waits this long, then EXPIRE (`expire_timeout`). */
  expireTimeoutMs: 5_000,
  /** How often waiting frames and silent peers are checked (`cleanup_out_msgs`). */
  cleanupIntervalMs: 1_000,
  /** Longest id. */
  maxIdLength: 128,
  /** Longest `token` (an access token when the server requires one). */
  maxTokenLength: 4_096,
  /** Frames waiting for one peer that is not connected. */
  maxWaitingPerPeer: 100,
  /** Frames waiting on one isolate in all. */
  maxWaiting: 10_000,
} as const;

/** PeerJS's id rule (the client checks it before it connects). */
export const PEERJS_ID_PATTERN = /^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$/;

/**
 * Whether `value` is an id a PeerJS client may use (and Parley accepts).
 *
 * @example
 * ```ts
 * import { isPeerjsId } from "./peerjs.ts";
 * isPeerjsId("alice"); // true
 * isPeerjsId("-alice"); // false
 * ```
 */
export function isPeerjsId(value: unknown): value is string {
  return typeof value === "string" && value.length <= PEERJS_DEFAULTS.maxIdLength &&
    PEERJS_ID_PATTERN.test(value);
}

/**
 * Validates one text frame of a PeerJS client. Returns null for a type this
 * server does not handle (PeerJS ignores those too, so newer clients keep
 * working).
 *
 * @throws {SyntaxError} When `text` is not a JSON object with a string `type`.
 * @throws {TypeError} When `dst` is not a valid id, or a relayed frame has none.
 * @throws {RangeError} When `payload` is over the payload limits.
 *
 * @example
 * ```ts
 * import { parsePeerjsFrame } from "./peerjs.ts";
 * parsePeerjsFrame('{"type":"HEARTBEAT"}'); // { type: "HEARTBEAT" }
 * parsePeerjsFrame('{"type":"SOMETHING-NEW"}'); // null
 * ```
 */
export function parsePeerjsFrame(
  text: string,
  limits: Pick<Limits, "maxPayloadDepth"> = LIMITS,
): PeerjsClientFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    reject(SyntaxError, "frame", "must be JSON", text);
  }
  if (!isObject(value) || typeof value.type !== "string") {
    reject(SyntaxError, "type", "must be a string in a JSON object", value);
  }
  const type = value.type as PeerjsClientFrame["type"];
  if (!PEERJS_CLIENT_TYPES.includes(type)) return null;
  if (type === "HEARTBEAT") return { type };
  const { dst, payload } = value;
  // A LEAVE without dst says "I am leaving the server" (PeerJS drops the peer).
  if (dst === undefined && type === "LEAVE") return { type, dst: undefined };
  if (!isPeerjsId(dst)) reject(TypeError, "dst", "must be a PeerJS id", dst);
  if (payload === undefined) return { type, dst };
  // The frame itself is bounded by maxFrameBytes; only its nesting is left to check.
  checkDepth(payload, limits.maxPayloadDepth, "payload");
  return { type, dst, payload };
}

/**
 * The frame that refuses or ends a PeerJS socket: `ERROR` (the client
 * reports `server-error` with `msg`), `ID-TAKEN` (`unavailable-id`) or
 * `INVALID-KEY` (`invalid-key`).
 *
 * @example
 * ```ts
 * import { PEERJS_MESSAGES, peerjsRefusal } from "./peerjs.ts";
 * peerjsRefusal("ID-TAKEN", PEERJS_MESSAGES.idTaken);
 * // '{"type":"ID-TAKEN","payload":{"msg":"ID is taken"}}'
 * ```
 */
export function peerjsRefusal(type: "ID-TAKEN" | "INVALID-KEY" | "ERROR", msg: string): string {
  return JSON.stringify({ type, payload: { msg } } satisfies PeerjsServerFrame);
}
