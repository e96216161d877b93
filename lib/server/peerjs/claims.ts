/**
 * PeerJS id claims: one KV entry per id in use, naming the isolate and the
 * cid that hold it, so one id is one peer across every isolate. This module
 * owns the `["parley", "peerjs", …]` keys.
 *
 * A claim whose isolate is dead (or is this one, which would know it) is
 * stale and may be taken. A second claim with the same token is the
 * reconnect of the same client (PeerJS's rule) and moves the claim; any
 * other token finds the id taken. Tokens are kept only as SHA-256 digests:
 * with `PARLEY_AUTH_SECRET` they are access tokens.
 *
 * Every commit goes through `retryLocked`: isolates of one SQLite file
 * meet "database is locked" when they claim at once.
 *
 * @module
 */
import { retryLocked } from "../kv_retry.ts";

/** The KV keys of PeerJS claims, in one place. */
export const PEERJS_KEYS = {
  /** Every claim under API key `key`. */
  claims: (key: string) => ["parley", "peerjs", key] as const,
  /** The claim of id `id` under API key `key`. */
  claim: (key: string, id: string) => ["parley", "peerjs", key, id] as const,
};

/**
 * Backstop `expireIn` of a claim (ms). A live peer's claim is rewritten
 * every {@linkcode CLAIM_REFRESH_MS}, so only the claims of isolates that
 * died without releasing them ever expire.
 */
export const CLAIM_EXPIRE_MS = 3_600_000;
/** How often the claims of connected peers are rewritten (ms). */
export const CLAIM_REFRESH_MS = 1_200_000;

/** What a claim holds. */
export interface PeerClaim {
  /** The isolate whose socket holds the id. */
  isolate: string;
  /** The cid its frames are routed to (see `Registry.addRecipient`). */
  cid: string;
  /** SHA-256 (hex) of the client's token. */
  token: string;
  /** When it was claimed (ms since the epoch). */
  since: number;
}

/** How a claim went. */
export type ClaimResult =
  /** The id was free (or stale): a new registration. */
  | { kind: "claimed"; versionstamp: string }
  /** The same client held it on another live isolate: moved here. */
  | { kind: "moved"; versionstamp: string; from: PeerClaim }
  /** Another client holds it. */
  | { kind: "taken" };

/**
 * The SHA-256 digest of a token, in hex.
 *
 * @example
 * ```ts
 * import { tokenDigest } from "./claims.ts";
 * (await tokenDigest("t1")).length; // 64
 * ```
 */
export async function tokenDigest(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Options of {@linkcode PeerClaims}. */
export interface PeerClaimsOptions {
  kv: Deno.Kv;
  /** The API key the ids live under. */
  key: string;
  /** This isolate's id. */
  isolate: string;
  /** The other live isolates, read fresh (the hub's liveness). */
  liveOthers: () => Promise<string[]>;
}

/**
 * The claims of one API key, as seen from one isolate.
 *
 * @example
 * ```ts ignore
 * const claims = new PeerClaims({ kv, key: "peerjs", isolate, liveOthers });
 * const result = await claims.claim("alice", await tokenDigest(token), cid);
 * if (result.kind === "taken") socket.send(idTakenFrame);
 * await claims.release("alice", cid);
 * ```
 */
export class PeerClaims {
  readonly #options: PeerClaimsOptions;

  constructor(options: PeerClaimsOptions) {
    this.#options = options;
  }

  /**
   * Claims `id` for this isolate's `cid`. Call it only when no peer of this
   * isolate holds `id`, one claim per id at a time.
   */
  async claim(id: string, token: string, cid: string): Promise<ClaimResult> {
    const { kv, key, isolate } = this.#options;
    const entryKey = PEERJS_KEYS.claim(key, id);
    const value: PeerClaim = { isolate, cid, token, since: Date.now() };
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await kv.get<PeerClaim>(entryKey);
      const held = entry.value;
      const live = held !== null && held.isolate !== isolate &&
        (await this.#options.liveOthers()).includes(held.isolate);
      if (live && held.token !== token) return { kind: "taken" };
      const commit = await retryLocked(() =>
        kv.atomic().check(entry).set(entryKey, value, { expireIn: CLAIM_EXPIRE_MS }).commit()
      );
      if (!commit.ok) continue; // raced another claim: look again
      return live
        ? { kind: "moved", versionstamp: commit.versionstamp, from: held }
        : { kind: "claimed", versionstamp: commit.versionstamp };
    }
    return { kind: "taken" };
  }

  /** The claim of `id`, or null. */
  async lookup(id: string): Promise<PeerClaim | null> {
    const { kv, key } = this.#options;
    return (await kv.get<PeerClaim>(PEERJS_KEYS.claim(key, id))).value;
  }

  /** Deletes the claim of `id` if `cid` still holds it. */
  async release(id: string, cid: string): Promise<void> {
    const { kv, key } = this.#options;
    const entryKey = PEERJS_KEYS.claim(key, id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await kv.get<PeerClaim>(entryKey);
      if (entry.value?.cid !== cid) return;
      if ((await retryLocked(() => kv.atomic().check(entry).delete(entryKey).commit())).ok) return;
    }
  }

  /**
   * Rewrites the claim of `id` (its `expireIn` starts again) if it is still
   * the one committed at `versionstamp`. Resolves to the new versionstamp,
   * or null when the claim has moved on.
   */
  async refresh(id: string, claim: PeerClaim, versionstamp: string): Promise<string | null> {
    const { kv, key } = this.#options;
    const entryKey = PEERJS_KEYS.claim(key, id);
    const commit = await retryLocked(() =>
      kv.atomic().check({ key: entryKey, versionstamp })
        .set(entryKey, claim, { expireIn: CLAIM_EXPIRE_MS }).commit()
    );
    return commit.ok ? commit.versionstamp : null;
  }

  /**
   * Refreshes the claims of `holders` one after another (each holder's
   * versionstamp is updated in place); a claim that moved on is left alone.
   */
  async refreshAll(
    holders: Iterable<{ id: string; claim: PeerClaim; versionstamp: string }>,
  ): Promise<void> {
    for (const holder of [...holders]) {
      try {
        const versionstamp = await this.refresh(holder.id, holder.claim, holder.versionstamp);
        if (versionstamp !== null) holder.versionstamp = versionstamp;
      } catch (error) {
        console.error("peerjs: cannot refresh a claim", error);
      }
    }
  }

  /** The ids held on live isolates (this one included), at most `limit`. */
  async list(limit: number): Promise<string[]> {
    const { kv, key, isolate } = this.#options;
    const live = new Set([isolate, ...await this.#options.liveOthers()]);
    const ids: string[] = [];
    for await (const entry of kv.list<PeerClaim>({ prefix: PEERJS_KEYS.claims(key) })) {
      if (live.has(entry.value.isolate)) ids.push(String(entry.key.at(-1)));
      if (ids.length >= limit) break;
    }
    return ids;
  }
}
