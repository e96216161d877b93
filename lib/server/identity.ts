/**
 * Anonymous identities the server issues: a fresh user_id and a proof (an
 * HS256 JWT whose `sub` is that id) that the client keeps and presents in
 * its next connections' `hello`. Without a valid proof a client never gets
 * a user_id it names; it gets a fresh one.
 *
 * The signing secret is `PARLEY_IDENTITY_SECRET`; unset, one is generated at
 * first start and kept in KV (this module owns that key), so open mode needs
 * no setup and identities hold across isolates and restarts.
 *
 * @module
 */
import { jwtVerify, SignJWT } from "jose";
import { isUserId } from "../protocol/mod.ts";
import { randomId } from "./ids.ts";
import { retryLocked } from "./kv_retry.ts";

/** The KV key of the generated signing secret (owned here, nowhere else). */
export const IDENTITY_SECRET_KEY = ["parley-secrets", "identity"] as const;

/** The audience of identity proofs: an access token is never mistaken for one, nor one for it. */
const AUDIENCE = "parley-identity";

/**
 * The secret proofs are signed with: `configured` when set, else the one in
 * KV, generated and stored by whichever isolate comes first (the others read
 * it back).
 *
 * @example
 * ```ts
 * import { identitySecret } from "./identity.ts";
 * const kv = await Deno.openKv(":memory:");
 * console.log((await identitySecret(kv, null)).length > 20); // true
 * kv.close();
 * ```
 */
export async function identitySecret(kv: Deno.Kv, configured: string | null): Promise<string> {
  if (configured) return configured;
  const key = [...IDENTITY_SECRET_KEY];
  for (;;) {
    const entry = await retryLocked(() => kv.get<string>(key));
    if (typeof entry.value === "string" && entry.value) return entry.value;
    const fresh = randomId(32);
    const { ok } = await retryLocked(() => kv.atomic().check(entry).set(key, fresh).commit());
    if (ok) return fresh;
  }
}

/**
 * Issues and checks identity proofs.
 *
 * @example
 * ```ts
 * import { IdentityProofs } from "./identity.ts";
 * const kv = await Deno.openKv(":memory:");
 * const proofs = new IdentityProofs(kv, null);
 * const { user_id, proof } = await proofs.issue();
 * console.log(await proofs.verify(proof) === user_id); // true
 * kv.close();
 * ```
 */
export class IdentityProofs {
  #key: Promise<CryptoKey> | null = null;

  constructor(readonly kv: Deno.Kv, readonly configured: string | null) {}

  /**
   * The HMAC key, imported once: given raw bytes, jose imports them again
   * for every proof, which was the largest part of a connect's CPU.
   */
  #secret(): Promise<CryptoKey> {
    if (this.#key) return this.#key;
    const key = identitySecret(this.kv, this.configured).then((secret) =>
      crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      )
    );
    // A failed read is not remembered: the next connection tries again.
    key.catch(() => {
      if (this.#key === key) this.#key = null;
    });
    return this.#key = key;
  }

  /** Signs a proof of `user_id` (a fresh UUID when none is given). */
  async issue(user_id: string = crypto.randomUUID()): Promise<{ user_id: string; proof: string }> {
    const proof = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user_id)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .sign(await this.#secret());
    return { user_id, proof };
  }

  /** The user_id a proof proves, or null when it is not one of this deployment's proofs. */
  async verify(proof: string | undefined): Promise<string | null> {
    if (!proof) return null;
    try {
      const { payload } = await jwtVerify(proof, await this.#secret(), {
        algorithms: ["HS256"],
        audience: AUDIENCE,
      });
      return isUserId(payload.sub) ? payload.sub.toLowerCase() : null;
    } catch {
      return null;
    }
  }
}
