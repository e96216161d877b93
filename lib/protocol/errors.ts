/**
 * Error codes and close codes of the wire. Callers branch on these, so
 * each one is a stable string (or number) documented where it is defined.
 *
 * @module
 */

/** Every error code a server or SDK may report, as a const tuple. */
export const ERROR_CODES = [
  /** A field has the wrong type or value (a bad group name, a non-UUID user_id…). */
  "INVALID_PARAMETER",
  /** The frame is not a request the server understands, or not now. */
  "INVALID_REQUEST",
  /** The SDK has no open connection to send on. */
  "NOT_CONNECTED",
  /** The connection sent faster than its token bucket allows. */
  "RATE_LIMITED",
  /** A frame or message is over its size limit. */
  "PAYLOAD_TOO_LARGE",
  /** The token is missing, bad or expired, or does not grant this room. */
  "UNAUTHORIZED",
  /** The recipient (user_id or cid) is not connected. */
  "NOT_FOUND",
  /** The room has as many users as it may. */
  "ROOM_FULL",
  /** No answer came in time. */
  "TIMEOUT",
  /** The request was cancelled (the connection closed before an answer). */
  "CANCELLED",
  /** The server failed; the request may be retried. */
  "INTERNAL_ERROR",
  /** The SDK and the server speak different protocol versions: update the older one. */
  "UNSUPPORTED_VERSION",
  /**
   * A call found no network path between its two peers (ICE found no pair in
   * time, or failed again after a restart); it ended on both sides.
   */
  "ICE_FAILED",
  /**
   * The server's shared store (Deno KV) keeps failing, so what the request
   * sends to other isolates is not known to be safe: it was not acked, and
   * it may or may not still arrive. Retry later.
   */
  "UNAVAILABLE",
] as const;

/** One of {@linkcode ERROR_CODES}. */
export type ErrorCode = typeof ERROR_CODES[number];

/**
 * WebSocket close codes the server uses, with the reason it gives.
 *
 * @example
 * ```ts
 * import { CLOSE } from "./mod.ts";
 * // socket.close(CLOSE.policy, "Rate limit exceeded");
 * console.log(CLOSE.tooBig); // 1009
 * ```
 */
export const CLOSE = {
  /** The client said goodbye, or the server closed on purpose. */
  normal: 1000,
  /** The server is shutting down: reconnect (elsewhere). */
  goingAway: 1001,
  /** Abuse: the client kept flooding after being told it was rate-limited. */
  policy: 1008,
  /** A frame over {@linkcode LIMITS.maxFrameBytes}. */
  tooBig: 1009,
  /** A text frame that is not UTF-8 (Deno drops such a socket itself: the client sees 1006). */
  invalidData: 1007,
  /** The server failed. */
  internal: 1011,
  /** No frame (not even a pong) for two heartbeat intervals. */
  heartbeatTimeout: 4000,
  /** The client speaks a protocol version this server does not. */
  unsupportedVersion: 4002,
  /**
   * The client read too slowly: more than the server's bound was queued for
   * it. The connection is suspended, not ended: resume it within the grace.
   */
  slowReader: 4004,
  /**
   * The credentials of the `hello` frame were refused (a bad or expired
   * access token), or the token expired while connected: reconnect with a
   * new token. The reason says which.
   */
  unauthorized: 4401,
  /** The `hello` frame the URL announced (`hello=1`) did not come in time, or was not first. */
  noHello: 4003,
} as const;

/** An error as it travels on the wire and as the SDK rejects with it. */
export interface WireError {
  /** One of {@linkcode ERROR_CODES}. */
  code: ErrorCode;
  /** What went wrong and what to do about it, in one sentence. */
  message: string;
}

/**
 * The error code that describes an exception thrown by the validators of
 * this module: `RangeError` is a size limit, `TypeError` a bad field,
 * anything else a request the server does not understand.
 *
 * @example
 * ```ts
 * import { errorCodeOf } from "./mod.ts";
 * errorCodeOf(new TypeError("x")); // "INVALID_PARAMETER"
 * ```
 */
export function errorCodeOf(error: unknown): ErrorCode {
  if (error instanceof RangeError) return "PAYLOAD_TOO_LARGE";
  if (error instanceof TypeError) return "INVALID_PARAMETER";
  return "INVALID_REQUEST";
}

/**
 * Why a connection speaking protocol `client` is refused by a server
 * speaking `server`: names both versions and which side is behind. Short
 * enough for a WebSocket close reason (at most 123 bytes).
 *
 * @example
 * ```ts
 * import { versionMismatch } from "./mod.ts";
 * versionMismatch("2", 1);
 * // "Protocol v2 is not spoken here: this server speaks v1, so the SDK is too new for it"
 * ```
 */
export function versionMismatch(client: string, server: number): string {
  const version = Number(client);
  if (!/^\d{1,6}$/.test(client)) {
    const shown = client.replace(/[^\w.-]/g, "?").slice(0, 16);
    return `Protocol "${shown}" is not spoken here: this server speaks v${server}`;
  }
  const side = version > server ? "the SDK is too new for it" : "the SDK is too old for it";
  return `Protocol v${version} is not spoken here: this server speaks v${server}, so ${side}`;
}
