/**
 * Signed access tokens: HS256 JWTs made with `PARLEY_AUTH_SECRET`. A token
 * says who the user is (`sub`, a UUID, which becomes the connection's
 * user_id), what they are called (`name`), which rooms they may join
 * (`rooms`, with `*` patterns) and until when (`exp`). A token without a
 * `sub` is a room pass (a link shared with a group): it grants the rooms,
 * and each bearer keeps an anonymous identity of their own.
 *
 * @module
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { GROUP_NAME_PATTERN, isGroupName, isUserId } from "../protocol/mod.ts";

/** What a verified token grants. */
export interface Grant {
  /**
   * The user id (the token's `sub`, lower-cased); null for a room pass,
   * whose bearers each have an anonymous identity (see `identity.ts`).
   */
  user_id: string | null;
  /** The display name (`name`), if the token carries one. */
  name?: string;
  /** Room patterns (`rooms`): names, or `*` patterns such as `team-*`. */
  rooms: string[];
  /** When the token expires (seconds since the epoch). */
  exp: number;
  /**
   * `dm: true`: private messages and calls may reach any connected user, not
   * only those in rooms the token grants.
   */
  dm?: boolean;
}

/** The claims {@linkcode signToken} writes. */
export interface TokenClaims {
  /** The user id: a UUID. Absent: a room pass, shared by many, each their own user. */
  sub?: string;
  /** The display name. */
  name?: string;
  /** Room names or `*` patterns. @default ["*"] */
  rooms?: string[];
  /** Private messages and calls to anyone, not only to people in granted rooms. @default false */
  dm?: boolean;
}

/**
 * A token was missing, bad, expired, or does not grant what was asked.
 *
 * @example
 * ```ts
 * import { AuthError } from "./auth.ts";
 * const error = new AuthError("Cannot connect as the token has expired: get a new one");
 * console.log(error.code); // "UNAUTHORIZED"
 * ```
 */
export class AuthError extends Error {
  readonly code = "UNAUTHORIZED";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthError";
  }
}

/** Room patterns: a group name (spaces included, as in Skapi), in which `*` is a wildcard. */
const ROOM_PATTERN = GROUP_NAME_PATTERN;

function keyOf(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/**
 * Whether one of `patterns` grants `room`. `*` matches any run of
 * characters (none included); everything else matches itself.
 *
 * @example
 * ```ts
 * import { roomAllowed } from "./auth.ts";
 * roomAllowed(["team-*"], "team-a"); // true
 * roomAllowed(["team-*"], "teams"); // false
 * ```
 */
export function roomAllowed(patterns: readonly string[], room: string): boolean {
  return patterns.some((pattern) => {
    if (!pattern.includes("*")) return pattern === room;
    const parts = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${parts.join(".*")}$`).test(room);
  });
}

/**
 * Verifies a token with `secret` (HS256 only) and returns its grant.
 *
 * @throws {AuthError} When the token is missing, malformed, signed with another key, expired, or lacks `sub`, `rooms` or `exp`.
 *
 * @example
 * ```ts
 * import { signToken, verifyToken } from "./auth.ts";
 * const token = await signToken("s3cret", { sub: crypto.randomUUID(), rooms: ["lobby"] });
 * const grant = await verifyToken("s3cret", token);
 * console.log(grant.rooms); // ["lobby"]
 * ```
 */
export async function verifyToken(secret: string, token: string | null): Promise<Grant> {
  if (!token) {
    throw new AuthError(
      "Cannot connect as this server requires an access token: pass the 'token' option",
    );
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: ["HS256"],
      requiredClaims: ["exp"],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      throw new AuthError("Cannot connect as the access token has expired: get a new one", {
        cause: error,
      });
    }
    const why = error instanceof errors.JWSSignatureVerificationFailed
      ? "its signature does not match this server's secret"
      : error instanceof errors.JOSEError
      ? `it is invalid (${error.message})`
      : "it is not a JWT";
    throw new AuthError(`Cannot connect as the access token is rejected: ${why}`, {
      cause: error,
    });
  }
  const { sub, name, rooms, exp, dm } = payload;
  if (sub !== undefined && !isUserId(sub)) {
    throw new AuthError(
      `Cannot connect as the token's 'sub' must be a user id (a UUID): current value is ${
        JSON.stringify(sub)
      }`,
    );
  }
  if (
    !Array.isArray(rooms) ||
    !rooms.every((r) => typeof r === "string" && ROOM_PATTERN.test(r))
  ) {
    throw new AuthError(
      "Cannot connect as the token's 'rooms' must be a list of room names or * patterns",
    );
  }
  return {
    user_id: sub === undefined ? null : sub.toLowerCase(),
    ...(typeof name === "string" && name.trim() ? { name } : {}),
    rooms,
    exp: exp as number,
    ...(dm === true ? { dm: true } : {}),
  };
}

/**
 * Makes a token signed with `secret` that expires in `ttlSeconds`.
 *
 * @throws {TypeError} When `sub` is not a UUID or a room pattern is not valid.
 *
 * @example
 * ```ts
 * import { signToken } from "./auth.ts";
 * const token = await signToken("s3cret", { sub: crypto.randomUUID(), rooms: ["team-*"] }, 600);
 * ```
 */
export async function signToken(
  secret: string,
  claims: TokenClaims,
  ttlSeconds = 3600,
  now: number = Date.now(),
): Promise<string> {
  if (claims.sub !== undefined && !isUserId(claims.sub)) {
    throw new TypeError(
      `Cannot sign a token as 'sub' must be a UUID: current value is "${claims.sub}"`,
    );
  }
  const rooms = claims.rooms ?? ["*"];
  for (const room of rooms) {
    if (!ROOM_PATTERN.test(room) || (!room.includes("*") && !isGroupName(room))) {
      throw new TypeError(
        `Cannot sign a token as a room must be a room name or a * pattern: current value is "${room}"`,
      );
    }
  }
  const issued = Math.floor(now / 1000);
  const jwt = new SignJWT({
    ...(claims.name ? { name: claims.name } : {}),
    rooms,
    ...(claims.dm ? { dm: true } : {}),
  }).setProtectedHeader({ alg: "HS256", typ: "JWT" });
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  return await jwt
    .setIssuedAt(issued)
    .setExpirationTime(issued + ttlSeconds)
    .sign(keyOf(secret));
}

/**
 * The token a request carries: `Authorization: Bearer …`, else the `token`
 * query parameter (a browser WebSocket cannot set headers).
 *
 * @example
 * ```ts
 * import { tokenOf } from "./auth.ts";
 * tokenOf(new Request("http://x/api/ice?token=abc")); // "abc"
 * ```
 */
export function tokenOf(req: Request): string | null {
  const header = req.headers.get("authorization");
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ?? new URL(req.url).searchParams.get("token");
}
