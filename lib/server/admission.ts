/**
 * Who gets in: the checks of a WebSocket upgrade (origin, sockets per
 * address, access token) before anything is upgraded, and the checks of
 * each join (the token's rooms, joins per minute, users per room).
 *
 * @module
 */
import { type AuthError, type Grant, roomAllowed, tokenOf, verifyToken } from "./auth.ts";
import { clientAddress, ConnectionCounter, PerMinuteLimiter, type RemoteInfo } from "./abuse.ts";
import type { Connection } from "./connection.ts";
import { originAllowed, originRefusal } from "./origins.ts";
import { groupSize } from "./presence.ts";
import { RequestError } from "./requests.ts";
import type { SecuritySettings } from "./settings.ts";

/** An upgrade that passed: who the token says it is, and where it came from. */
export interface Ticket {
  /** The token's grant; null when the server runs without a secret. */
  grant: Grant | null;
  /** The client's address (see `clientAddress`). */
  address: string;
  /** Frees the address's socket slot; call once the socket has closed. Idempotent. */
  release(): void;
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
  #tickets = new WeakMap<Connection, Ticket>();

  constructor(readonly settings: SecuritySettings, readonly kv: Deno.Kv) {
    this.connections = new ConnectionCounter(settings.maxConnectionsPerIp);
    this.joins = new PerMinuteLimiter(settings.maxJoinsPerMinute);
    this.connects = new PerMinuteLimiter(settings.maxConnectsPerMinute);
  }

  /**
   * Checks an upgrade request; resolves to its ticket, or to the refusal to
   * answer with (403 origin, 429 too many sockets, 401 token), always before
   * the upgrade.
   */
  async check(req: Request, info?: RemoteInfo): Promise<Ticket | Response> {
    const { settings } = this;
    if (!originAllowed(req, settings.allowedOrigins)) {
      const origin = req.headers.get("origin") ?? "";
      const { code, message } = originRefusal(origin);
      return refuse(403, code, message);
    }
    const address = clientAddress(req, info, settings.trustProxy);
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
    if (settings.authSecret === null) return { grant: null, address, release };
    try {
      const grant = await verifyToken(settings.authSecret, tokenOf(req));
      return { grant, address, release };
    } catch (error) {
      release();
      if ((error as AuthError).code !== "UNAUTHORIZED") throw error;
      return refuse(401, "UNAUTHORIZED", (error as AuthError).message, {
        "www-authenticate": 'Bearer realm="parley"',
      });
    }
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
    const grant = this.#tickets.get(connection)?.grant;
    if (grant && !roomAllowed(grant.rooms, group)) {
      throw new RequestError(
        "UNAUTHORIZED",
        `Cannot list the users of room "${group}" as the access token does not grant it`,
      );
    }
  }

  /**
   * Checks that `connection` may join `group`: the token grants the room and
   * has not expired, the address has joins left this minute, and the room
   * has room (counted in KV, so across isolates; concurrent joins on several
   * isolates may overshoot by as many as race).
   *
   * @throws {RequestError} `UNAUTHORIZED`, `RATE_LIMITED` or `ROOM_FULL`.
   */
  async admit(connection: Connection, group: string): Promise<void> {
    const ticket = this.#tickets.get(connection);
    const grant = ticket?.grant;
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
    const members = await groupSize(this.kv, group);
    // A counter that wrapped below zero (a lost race of removals) reads huge: ignore it.
    if (members >= this.settings.maxUsersPerRoom && members < 2 ** 53) {
      throw new RequestError(
        "ROOM_FULL",
        `Cannot join room "${group}" as it has ${members} users, the most it may have`,
      );
    }
  }
}
