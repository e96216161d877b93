/**
 * Who gets in: the checks of a WebSocket upgrade (origin, sockets per
 * address, access token) before anything is upgraded, who a connection is
 * (its token's `sub`, or an anonymous id it proves, or a fresh one), and the
 * checks of each join (the token's rooms, joins per minute). Users per room
 * is checked by presence, in the join's own KV commit.
 *
 * @module
 */
import type { HelloFrame } from "../protocol/mod.ts";
import { AuthError, type Grant, roomAllowed, tokenOf, verifyToken } from "./auth.ts";
import { clientAddress, ConnectionCounter, PerMinuteLimiter, type RemoteInfo } from "./abuse.ts";
import type { Connection } from "./connection.ts";
import { IdentityProofs } from "./identity.ts";
import { originAllowed, originRefusal } from "./origins.ts";
import { RequestError } from "./requests.ts";
import type { SecuritySettings } from "./settings.ts";

/** An upgrade that passed: who the token says it is, and where it came from. */
export interface Ticket {
  /** The grant of the query's token; null without one (or without tokens). */
  grant: Grant | null;
  /** The client's address (see `clientAddress`). */
  address: string;
  /** Frees the address's socket slot; call once the socket has closed. Idempotent. */
  release(): void;
}

/** Who a connection is, once its credentials are checked. */
export interface Identified {
  user_id: string;
  /** The token's name, when it carries one. */
  name?: string;
  grant: Grant | null;
  /** The anonymous user_id's proof, for the welcome. */
  proof?: string;
}

function refuse(
  status: number,
  code: string,
  message: string,
  headers: HeadersInit = {},
): Response {
  return Response.json({ code, message }, { status, headers });
}

/**
 * The admission checks of one hub.
 *
 * @example
 * ```ts ignore
 * const admission = new Admission(securityFromEnv(), kv);
 * const ticket = await admission.check(req, info);
 * if (ticket instanceof Response) return ticket; // 401, 403 or 429
 * ```
 */
export class Admission {
  readonly connections: ConnectionCounter;
  readonly joins: PerMinuteLimiter;
  /** New connections per address per minute: reconnecting must not refill a flooder's burst. */
  readonly connects: PerMinuteLimiter;
  /** Issues and checks the proofs of anonymous identities. */
  readonly proofs: IdentityProofs;
  #tickets = new WeakMap<Connection, Ticket>();

  constructor(readonly settings: SecuritySettings, readonly kv: Deno.Kv) {
    this.proofs = new IdentityProofs(kv, settings.identitySecret);
    this.connections = new ConnectionCounter(settings.maxConnectionsPerIp);
    this.joins = new PerMinuteLimiter(settings.maxJoinsPerMinute);
    this.connects = new PerMinuteLimiter(settings.maxConnectsPerMinute);
  }

  /**
   * Checks an upgrade request; resolves to its ticket, or to the refusal to
   * answer with (403 origin, 429 too many sockets, 401 token), always before
   * the upgrade. A token in the query (or the `Authorization` header) is
   * checked here; when `helloFollows`, a missing one may still come in the
   * `hello` frame (see {@linkcode identify}).
   */
  async check(req: Request, info?: RemoteInfo, helloFollows = false): Promise<Ticket | Response> {
    const { settings } = this;
    if (!originAllowed(req, settings.allowedOrigins)) {
      const origin = req.headers.get("origin") ?? "";
      const { code, message } = originRefusal(origin);
      return refuse(403, code, message);
    }
    const address = clientAddress(req, info, {
      hops: settings.trustProxy,
      proxies: settings.trustedProxies,
    });
    if (!this.connects.take(address)) {
      return refuse(
        429,
        "RATE_LIMITED",
        `Cannot open another connection as this address opened ${settings.maxConnectsPerMinute} in the last minute, the most it may: wait and retry`,
        { "retry-after": "5" },
      );
    }
    const release = this.connections.acquire(address);
    if (!release) {
      return refuse(
        429,
        "RATE_LIMITED",
        `Cannot open another connection as this address has ${settings.maxConnectionsPerIp} open, the most it may have: close one first`,
        { "retry-after": "10" },
      );
    }
    const token = tokenOf(req);
    if (settings.authSecret === null || (token === null && helloFollows)) {
      return { grant: null, address, release };
    }
    try {
      const grant = await verifyToken(settings.authSecret, token);
      return { grant, address, release };
    } catch (error) {
      release();
      if (!(error instanceof AuthError)) throw error;
      return refuse(401, "UNAUTHORIZED", error.message, {
        "www-authenticate": 'Bearer realm="parley"',
      });
    }
  }

  /**
   * Who a connection is: with tokens, the `sub` of the hello's token (else
   * the query's); without tokens, or with a room pass (a token without
   * `sub`), the user_id its proof proves, else a fresh one with a new proof.
   * A user_id merely claimed is never taken.
   *
   * @throws {AuthError} When the server requires a token and none valid came.
   */
  async identify(ticket: Ticket, hello: HelloFrame | null): Promise<Identified> {
    const { authSecret } = this.settings;
    if (authSecret !== null) {
      const grant = hello?.token ? await this.verify(hello.token) : ticket.grant;
      if (!grant) {
        throw new AuthError(
          "Cannot connect as this server requires an access token: pass the 'token' option",
        );
      }
      if (grant.user_id !== null) return { user_id: grant.user_id, name: grant.name, grant };
      // A room pass: the rooms are the token's, the identity the bearer's own.
      const passHolder = await this.proofs.verify(hello?.proof);
      return { ...await this.proofs.issue(passHolder ?? undefined), name: grant.name, grant };
    }
    const proven = await this.proofs.verify(hello?.proof);
    return { ...await this.proofs.issue(proven ?? undefined), grant: null };
  }

  /**
   * Verifies an access token with the server's secret.
   *
   * @throws {AuthError} When it is missing, bad or expired, or the server uses no tokens.
   */
  verify(token: string): Promise<Grant> {
    if (this.settings.authSecret === null) {
      return Promise.reject(
        new AuthError("Cannot use an access token as this server runs without them"),
      );
    }
    return verifyToken(this.settings.authSecret, token);
  }

  /** Remembers the ticket of an accepted connection, for its joins. */
  attach(connection: Connection, ticket: Ticket): void {
    this.#tickets.set(connection, ticket);
  }

  /**
   * Checks that `connection` may list who is in `group`: with a token, only
   * the rooms it grants (a room one may not join is nobody's business).
   *
   * @throws {RequestError} `UNAUTHORIZED`.
   */
  mayList(connection: Connection, group: string): void {
    const grant = connection.grant;
    if (grant && !roomAllowed(grant.rooms, group)) {
      throw new RequestError(
        "UNAUTHORIZED",
        `Cannot list the users of room "${group}" as the access token does not grant it`,
      );
    }
  }

  /**
   * Checks that `connection` may join `group`: the token grants the room and
   * has not expired, and the address has joins left this minute. (Whether
   * the room has room is checked by the join's commit: `Presence.move`.)
   *
   * @throws {RequestError} `UNAUTHORIZED` or `RATE_LIMITED`.
   */
  admit(connection: Connection, group: string): void {
    const ticket = this.#tickets.get(connection);
    const grant = connection.grant;
    if (grant) {
      if (grant.exp * 1000 <= Date.now()) {
        throw new RequestError(
          "UNAUTHORIZED",
          `Cannot join room "${group}" as the access token has expired: reconnect with a new one`,
        );
      }
      if (!roomAllowed(grant.rooms, group)) {
        throw new RequestError(
          "UNAUTHORIZED",
          `Cannot join room "${group}" as the access token does not grant it: it grants ${
            grant.rooms.join(", ") || "no room"
          }`,
        );
      }
    }
    if (ticket && !this.joins.take(ticket.address)) {
      throw new RequestError(
        "RATE_LIMITED",
        `Cannot join as this address made ${this.settings.maxJoinsPerMinute} joins in the last minute, the most it may: wait and retry`,
      );
    }
  }
}
