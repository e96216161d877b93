/**
 * Who this client is when it is anonymous, and where it connects by default.
 *
 * @module
 */

const STORAGE_KEY = "parley.identity";

/**
 * Where a client keeps the identity proof the server gave it (see the
 * welcome's `proof`): presenting it again makes it the same user.
 */
export interface IdentityStore {
  /** The kept proof, if any. */
  load(): string | undefined;
  /** Keeps a proof for the next connections. */
  save(proof: string): void;
}

/**
 * The identity store of a new client: a page's `localStorage` (so a reload,
 * or a second tab, is the same user), else memory of this client alone —
 * Deno has a `localStorage` too, but two bots in one process are two users.
 *
 * @example
 * ```ts
 * import { identityStore } from "./identity.ts";
 * const store = identityStore();
 * store.save("proof");
 * console.log(store.load()); // "proof"
 * ```
 */
export function identityStore(): IdentityStore {
  let kept: string | undefined;
  const storage = (): Storage | undefined => {
    try {
      return "document" in globalThis ? globalThis.localStorage : undefined;
    } catch {
      return undefined; // storage disabled
    }
  };
  return {
    load() {
      try {
        return storage()?.getItem(STORAGE_KEY) ?? kept;
      } catch {
        return kept;
      }
    },
    save(proof) {
      kept = proof;
      try {
        storage()?.setItem(STORAGE_KEY, proof);
      } catch {
        // Full or disabled: this client keeps it in memory.
      }
    },
  };
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
