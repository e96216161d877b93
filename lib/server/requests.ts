/**
 * What the server does for each request type. Each handler returns the
 * `ack` result or throws a {@linkcode RequestError} that becomes a typed
 * `error` frame with the request's id — or, for a signal sent without id
 * (protocol v3), no ack at all and an `error` that names the signal.
 *
 * @module
 */
import {
  type ErrorCode,
  type NoticeCode,
  noticeFrame,
  type ParsedClientRequest,
  type RequestResults,
  type RequestType,
  type ServerFrame,
} from "../protocol/mod.ts";
import type { Admission } from "./admission.ts";
import { roomAllowed } from "./auth.ts";
import type { Connection } from "./connection.ts";
import type { Presence } from "./presence.ts";
import type { Registry, Target } from "./registry.ts";
import type { Sessions } from "./sessions.ts";

/**
 * A request failed for a reason the client should hear about.
 *
 * @example
 * ```ts
 * import { RequestError } from "./requests.ts";
 * throw new RequestError("NOT_FOUND", "Cannot post as user 1 is not connected");
 * ```
 */
export class RequestError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** What the handlers work with: the parts the hub wires together (see hub.ts). */
export interface HubCore {
  readonly presence: Presence;
  readonly registry: Registry;
  /** Whether another isolate holds a target (for the reason a grant refused it). */
  readonly cluster?: { knows(target: { cid: string } | { user_id: string }): boolean };
  /**
   * Delivers a frame to everyone a target names, on every isolate; resolves
   * to how many sockets it reached. With `safe`, only once the frame is
   * committed to KV for the other isolates (rejects with `UNAVAILABLE` when
   * KV keeps failing), so that the ack means it survives a crash.
   */
  route(target: Target, frame: ServerFrame, safe?: boolean): Promise<number>;
  /**
   * The checks of joins and lists (a token's rooms, joins per address) and
   * the most connections a room may hold (checked in the join's commit).
   * @default none: anyone may join any room, of any size
   */
  readonly admission?: Pick<Admission, "admit" | "mayList" | "settings">;
  /** Replaces a connection's access token (an `auth` request); see `Sessions.renew`. */
  readonly sessions?: Pick<Sessions, "renew">;
}

/**
 * The rooms whose members `connection`'s private messages and calls may
 * reach: its token's rooms, unless the token says `dm: true`; undefined
 * (anyone) without tokens.
 */
function reach(connection: Connection): readonly string[] | undefined {
  const grant = connection.grant;
  return grant && !grant.dm ? grant.rooms : undefined;
}

/**
 * Nothing was delivered to `target`: UNAUTHORIZED when this isolate holds
 * connections it names, or the directory knows some on another isolate,
 * that the sender's token may not reach; else NOT_FOUND.
 */
function undelivered(
  core: HubCore,
  target: { user_id: string } | { cid: string },
  what: string,
  who: string,
): RequestError {
  if (core.registry.resolve(target).size > 0 || core.cluster?.knows(target)) {
    return new RequestError(
      "UNAUTHORIZED",
      `Cannot ${what} as the access token grants no room ${who} is in: private messages and calls reach only people in rooms the token grants`,
    );
  }
  return new RequestError("NOT_FOUND", `Cannot ${what} as ${who} is not connected`);
}

type Handler<T extends RequestType> = (
  core: HubCore,
  connection: Connection,
  request: Extract<ParsedClientRequest, { type: T }>,
) => Promise<RequestResults[T]>;

/** Tells `group` that `connection` joined, left, was disconnected or renamed. */
export function notify(
  core: Pick<HubCore, "route">,
  connection: Connection,
  group: string,
  code: NoticeCode,
): Promise<number> {
  return core.route({ group }, noticeFrame(code, group, connection.stamp));
}

const join: Handler<"join"> = async (core, connection, { group }) => {
  const from = connection.group;
  if (group === from) return { group };
  if (group !== null) core.admission?.admit(connection, group);
  // The move lands in KV before anyone hears of it, so a list right after a
  // notice already shows it. The local switch and the notices then happen in
  // one step: every member sees the joins in one order, its own first.
  const cap = core.admission?.settings.maxUsersPerRoom ?? Infinity;
  // A move KV keeps refusing rejects typed (PresenceUnavailableError, UNAVAILABLE).
  if (!await core.presence.move(connection, from, group, cap)) {
    throw new RequestError(
      "ROOM_FULL",
      `Cannot join room "${group}" as it has ${cap} users, the most it may have`,
    );
  }
  core.registry.setGroup(connection, group);
  const told = [];
  if (from !== null) told.push(notify(core, connection, from, "USER_LEFT"));
  if (group !== null) told.push(notify(core, connection, group, "USER_JOINED"));
  await Promise.all(told);
  return { group };
};

const post: Handler<"post"> = async (core, connection, { message, recipient }) => {
  if (recipient && "user_id" in recipient) {
    const { user_id } = recipient;
    const rooms = reach(connection);
    const delivered = await core.route({ user_id, ...(rooms ? { rooms } : {}) }, {
      type: "private",
      message,
      ...connection.stamp,
    }, true);
    if (delivered === 0) {
      throw undelivered(core, { user_id }, "deliver the message", `user "${user_id}"`);
    }
    return { delivered };
  }
  const group = connection.group;
  if (group === null || (recipient && recipient.group !== group)) {
    const what = recipient
      ? `this connection has not joined group "${recipient.group}"`
      : "this connection has joined no group";
    throw new RequestError(
      "INVALID_REQUEST",
      `Cannot post as ${what}: join the group first, or pass a user_id to send privately`,
    );
  }
  const delivered = await core.route({ group }, {
    type: "message",
    message,
    sender_rid: group,
    ...connection.stamp,
  }, true);
  return { delivered };
};

const users: Handler<"users"> = async (core, connection, request) => {
  core.admission?.mayList(connection, request.group);
  return await core.presence.listUsers(request);
};

const groups: Handler<"groups"> = (core, connection, request) => {
  const grant = connection.grant;
  // With a token, rooms it does not grant are not even listed.
  return core.presence.listGroups(request, grant ? (g) => roomAllowed(grant.rooms, g) : undefined);
};

const signal: Handler<"signal"> = async (core, connection, { id, to, signal }) => {
  const rooms = reach(connection);
  // Only an ack promises the frame is committed for other isolates; an
  // unacked signal (v3) goes out on the bus without waiting for that.
  const delivered = await core.route({ cid: to, ...(rooms ? { rooms } : {}) }, {
    type: "signal",
    signal,
    sender_rid: connection.group,
    ...connection.stamp,
  }, id !== undefined);
  if (delivered === 0) {
    throw undelivered(core, { cid: to }, `relay the ${signal.kind} signal`, `connection "${to}"`);
  }
  // The caller learns who it rings (for its rtc:closed) when the callee is
  // here; elsewhere it would cost a KV read on the message path, so not.
  const here = signal.kind === "call" ? core.registry.get(to) : undefined;
  return here ? { user_id: here.user_id } : {};
};

const auth: Handler<"auth"> = async (core, connection, { token }) => {
  if (!core.sessions) {
    throw new RequestError("INVALID_REQUEST", "Cannot refresh the token: this hub has no tokens");
  }
  return { expires: await core.sessions.renew(connection, token) };
};

const rename: Handler<"rename"> = async (core, connection, { name }) => {
  if (connection.grant?.name !== undefined) {
    throw new RequestError(
      "UNAUTHORIZED",
      `Cannot rename as the access token sets the name "${connection.grant.name}": ask for a token with another name`,
    );
  }
  connection.name = name; // cleaned by parseClientFrame
  await core.presence.rename(connection, connection.group);
  if (connection.group !== null) await notify(core, connection, connection.group, "USER_RENAMED");
  return { name: connection.name };
};

const HANDLERS: { [T in RequestType]: Handler<T> } = {
  join,
  post,
  users,
  groups,
  signal,
  rename,
  auth,
};

/**
 * Runs the handler of `request.type`.
 *
 * @example
 * ```ts ignore
 * const result = await handleRequest(core, connection, { type: "join", id: 1, group: "lobby" });
 * ```
 */
export function handleRequest<T extends RequestType>(
  core: HubCore,
  connection: Connection,
  request: Extract<ParsedClientRequest, { type: T }>,
): Promise<RequestResults[T]> {
  return (HANDLERS[request.type] as Handler<T>)(core, connection, request);
}
