/**
 * The ICE servers `GET /api/ice` hands to clients.
 *
 * - `STUN_URLS`: comma-separated STUN URLs, e.g. `stun:stun.example.com:3478`.
 *   Unset (or empty): {@linkcode DEFAULT_STUN_URLS}, well-known public STUN
 *   servers, as PeerJS, simple-peer and Skapi ship — without any, browsers
 *   have only host candidates, which do not route between two home networks.
 *   `none` turns STUN off (a private deployment that must not send its
 *   clients' addresses to a public server).
 * - `TURN_URLS` + `TURN_SECRET`: comma-separated TURN URLs and coturn's
 *   `static-auth-secret`; each answer carries short-lived credentials (TURN
 *   REST API: username `"<unix expiry>:<user id>"`, credential
 *   base64(HMAC-SHA1(TURN_SECRET, username))). `TURN_TTL` sets their
 *   lifetime in seconds (default 3600). The user id is the access token's
 *   `sub` when the server requires tokens, else `parley`. coturn checks both
 *   the HMAC and the expiry, so a leaked credential dies with its TTL.
 *
 * @module
 */

/** What `/api/ice` answers. Always `urls`, never the legacy `url`. */
export interface IceAnswer {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
}

/**
 * The STUN servers `/api/ice` answers when `STUN_URLS` is unset. A STUN
 * server learns only the address and port a client's packets come from (its
 * public address), nothing about the call.
 *
 * @example
 * ```ts
 * import { DEFAULT_STUN_URLS } from "./ice.ts";
 * console.log(DEFAULT_STUN_URLS[0]); // "stun:stun.l.google.com:19302"
 * ```
 */
export const DEFAULT_STUN_URLS: readonly string[] = Object.freeze([
  "stun:stun.l.google.com:19302",
  "stun:stun.cloudflare.com:3478",
]);

/** The value of `STUN_URLS` that turns STUN off. */
const NO_STUN = "none";

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * Builds the ICE server list from the environment.
 *
 * @example
 * ```ts
 * import { iceServers } from "./ice.ts";
 * const answer = await iceServers({ STUN_URLS: "stun:stun.example.com:3478" });
 * console.log(answer.iceServers[0].urls); // ["stun:stun.example.com:3478"]
 * console.log((await iceServers({ STUN_URLS: "none" })).iceServers); // []
 * ```
 */
export async function iceServers(
  env: Record<string, string | undefined> = Deno.env.toObject(),
  now: number = Date.now(),
  userId = "parley",
): Promise<IceAnswer> {
  const answer: IceAnswer = { iceServers: [] };
  const stun = stunUrls(env.STUN_URLS);
  if (stun.length) answer.iceServers.push({ urls: stun });
  const turn = list(env.TURN_URLS);
  if (turn.length && env.TURN_SECRET) {
    const ttl = turnTtl(env.TURN_TTL);
    const username = `${Math.floor(now / 1000) + ttl}:${userId}`;
    answer.iceServers.push({
      urls: turn,
      username,
      credential: await turnCredential(env.TURN_SECRET, username),
    });
  }
  return answer;
}

/** `STUN_URLS`: unset or empty → the defaults, `none` → none, else the list. */
function stunUrls(raw: string | undefined): string[] {
  if (raw?.trim().toLowerCase() === NO_STUN) return [];
  const urls = list(raw);
  return urls.length ? urls : [...DEFAULT_STUN_URLS];
}

/** `TURN_TTL` in seconds: a positive integer, default 3600. */
function turnTtl(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 3600;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new RangeError(
      `Cannot read TURN_TTL as it must be a positive number of seconds: current value is "${raw}"`,
    );
  }
  return ttl;
}

/**
 * The TURN REST API credential: base64(HMAC-SHA1(secret, username)).
 *
 * @example
 * ```ts
 * import { turnCredential } from "./ice.ts";
 * console.log((await turnCredential("secret", "1700000000:parley")).length); // 28
 * ```
 */
export async function turnCredential(secret: string, username: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(username));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}
