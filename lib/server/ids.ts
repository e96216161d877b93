/**
 * Random ids of the server: cids, isolate ids, session secrets.
 *
 * @module
 */

/**
 * `bytes` random bytes in base64url (no padding).
 *
 * @example
 * ```ts
 * import { randomId } from "./ids.ts";
 * const cid = `cid:${randomId(18)}`; // 144 random bits
 * ```
 */
export function randomId(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_")
    .replaceAll("=", "");
}
