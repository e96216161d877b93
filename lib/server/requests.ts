/**
 * What the server does for each request type. Each handler returns the
 * `ack` result or throws a {@linkcode RequestError} that becomes a typed
 * `error` frame with the request's id.
 *
 * @module
 */
import {
  type ClientRequest,
  type ErrorCode,
  isGroupName,
  isUserId,
  type NoticeCode,
  type RequestResults,
  type RequestType,
  type ServerFrame,
} from "../protocol/mod.ts";
import { cleanName, type Connection } from "./connection.ts";
import type { Presence } from "./presence.ts";
import type { Registry, Target } from "./registry.ts";

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

/** What the handlers need of the hub. */
export interface HubCore {
  readonly presence: Presence;
  readonly registry: Registry;
  /**
   * Delivers a frame to everyone a target names, on every isolate; resolves
   * to how many sockets it reached.
   */
  route(target: Target, frame: ServerFrame): Promise<number>;
  /** Checks that `connection` may join `group`; throws a RequestError if not. */
  admit?(connection: Connection, group: string): void | Promise<void>;
  /** Checks that `connection` may list the users of `group`; throws a RequestError if not. */
  mayList?(connection: Connection, group: string): void;
}

type Handler<T extends RequestType> = (
  core: HubCore,
  connection: Connection,
  request: Extract<ClientRequest, { type: T }>,
) => Promise<RequestResults[T]>;

/** Tells `group` that `connection` joined, left, was disconnected or renamed. */
export function notify(
  core: HubCore,
  connection: Connection,
  group: string,
  code: NoticeCode,
): Promise<number> {
  return core.route({ group }, { type: "notice", code, sender_rid: group, ...connection.stamp });
}

const join: Handler<"join"> = async (core, connection, { group }) => {
  const from = connection.group;
  if (group === from) return { group };
  if (group !== null) await core.admit?.(connection, group);
  // The move lands in KV before anyone hears of it, so a list right after a
  // notice already shows it. The local switch and the notices then happen in
  // one step: every member sees the joins in one order, its own first.
  await core.presence.move(connection, from, group);
  core.registry.setGroup(connection, group);
  const told = [];
  if (from !== null) told.push(notify(core, connection, from, "USER_LEFT"));
  if (group !== null) told.push(notify(core, connection, group, "USER_JOINED"));
  await Promise.all(told);
  return { group };
};

const post: Handler<"post"> = async (core, connection, { message, recipient }) => {
  if (recipient !== undefined && isUserId(recipient)) {
    // user_ids are stored lowercased; a UUID is the same in any case.
    const delivered = await core.route({ user_id: recipient.toLowerCase() }, {
      type: "private",
      message,
      ...connection.stamp,
    });
    if (delivered === 0) {
      throw new RequestError(
        "NOT_FOUND",
        `Cannot deliver the message as user "${recipient}" is not connected`,
      );
    }
    return { delivered };
  }
  const group = connection.group;
  if (group === null || (recipient !== undefined && recipient !== group)) {
    const what = recipient === undefined
      ? "this connection has joined no group"
      : isGroupName(recipient)
      ? `this connection has not joined group "${recipient}"`
      : `"${recipient}" is neither a user_id nor a group name`;
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
  });
  return { delivered };
};

const users: Handler<"users"> = async (core, connection, request) => {
  core.mayList?.(connection, request.group);
  return await core.presence.listUsers(request);
};

const groups: Handler<"groups"> = (core, _connection, request) => core.presence.listGroups(request);

const signal: Handler<"signal"> = async (core, connection, { to, signal }) => {
  const delivered = await core.route({ cid: to }, {
    type: "signal",
    signal,
    sender_rid: connection.group,
    ...connection.stamp,
  });
  if (delivered === 0) {
    throw new RequestError(
      "NOT_FOUND",
      `Cannot relay the ${signal.kind} signal as connection "${to}" is not connected`,
    );
  }
  // The caller learns who it rings (for its rtc:closed) when the callee is
  // here; elsewhere it would cost a KV read on the message path, so not.
  const here = signal.kind === "call" ? core.registry.get(to) : undefined;
  return here ? { user_id: here.user_id } : {};
};

const rename: Handler<"rename"> = async (core, connection, { name }) => {
  const cleaned = cleanName(name);
  if (!cleaned) {
    throw new RequestError(
      "INVALID_PARAMETER",
      "Cannot rename as 'name' has no visible characters: choose a name people can read",
    );
  }
  connection.name = cleaned;
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
  request: Extract<ClientRequest, { type: T }>,
): Promise<RequestResults[T]> {
  return (HANDLERS[request.type] as Handler<T>)(core, connection, request);
}
