/**
 * The life of an access token on a live connection: replaced by an `auth`
 * request (same user, still granting the room it is in), and the end of the
 * connection at its expiry.
 *
 * @module
 */
import type { Admission } from "./admission.ts";
import { AuthError, roomAllowed } from "./auth.ts";
import type { Connection } from "./connection.ts";
import { RequestError } from "./requests.ts";

/** setTimeout takes at most this many ms; a longer token re-arms on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Verifies `token` and makes its grant `connection`'s; resolves to when it
 * expires (ms since the epoch).
 *
 * @throws {RequestError} `UNAUTHORIZED` when the token is bad or expired, names another user, or does not grant the room the connection is in.
 *
 * @example
 * ```ts ignore
 * const expires = await replaceGrant(hub.admission, connection, freshToken);
 * ```
 */
export async function replaceGrant(
  admission: Pick<Admission, "verify">,
  connection: Connection,
  token: string,
): Promise<number> {
  let grant;
  try {
    grant = await admission.verify(token);
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    throw new RequestError("UNAUTHORIZED", error.message);
  }
  // A room pass names no one: it may refresh any connection; a personal token only its own.
  if (grant.user_id !== null && grant.user_id !== connection.user_id) {
    throw new RequestError(
      "UNAUTHORIZED",
      "Cannot take the new access token as its 'sub' is another user: a connection keeps its user",
    );
  }
  if (connection.group !== null && !roomAllowed(grant.rooms, connection.group)) {
    throw new RequestError(
      "UNAUTHORIZED",
      `Cannot take the new access token as it does not grant room "${connection.group}", where this connection is: leave it first`,
    );
  }
  connection.grant = grant;
  return grant.exp * 1000;
}

/**
 * Calls `expired` when `connection`'s current grant expires; a grant
 * replaced meanwhile cancels it (the caller arms the new one).
 *
 * @example
 * ```ts ignore
 * armExpiry(connection, () => connection.close(CLOSE.unauthorized, "Access token expired"));
 * ```
 */
export function armExpiry(connection: Connection, expired: () => void): void {
  clearTimeout(connection.expiryTimer);
  const grant = connection.grant;
  if (!grant) return;
  const left = grant.exp * 1000 - Date.now();
  connection.expiryTimer = setTimeout(() => {
    if (connection.grant !== grant) return;
    if (grant.exp * 1000 > Date.now()) return armExpiry(connection, expired);
    expired();
  }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
  // A timer alone must not keep a process (a test, a script) alive.
  Deno.unrefTimer(Number(connection.expiryTimer));
}
