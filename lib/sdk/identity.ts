/**
 * Who this client is when it is anonymous, and where it connects by default.
 *
 * @module
 */

const STORAGE_KEY = "parley.user_id";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A stable anonymous user_id: kept in a page's `localStorage` (so a reload
 * is the same user), a fresh UUID per client elsewhere — Deno has a
 * `localStorage` too, but two bots in one process are two users.
 *
 * @example
 * ```ts
 * import { anonymousUserId } from "./identity.ts";
 * console.log(anonymousUserId().length); // 36
 * ```
 */
export function anonymousUserId(): string {
  try {
    const storage = "document" in globalThis ? globalThis.localStorage : undefined;
    const kept = storage?.getItem(STORAGE_KEY);
    if (kept && UUID.test(kept)) return kept;
    const fresh = crypto.randomUUID();
    storage?.setItem(STORAGE_KEY, fresh);
    return fresh;
  } catch {
    return crypto.randomUUID(); // storage disabled or full
  }
}

/**
 * The page's own realtime endpoint (ws: or wss: to match), or undefined
 * outside a browser.
 *
 * @example
 * ```ts
 * import { defaultUrl } from "./identity.ts";
 * defaultUrl(); // "wss://example.com/api/realtime" on https://example.com
 * ```
 */
export function defaultUrl(): string | undefined {
  const location = (globalThis as { location?: Location }).location;
  if (!location?.host || !location.protocol.startsWith("http")) return undefined;
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/realtime`;
}
