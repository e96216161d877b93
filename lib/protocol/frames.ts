// Over 300 lines: every frame of the wire, client's and server's, in one place: the one source of its shapes.
/**
 * Every frame of the wire, both ways. Frames are JSON objects with a
 * `type`; requests carry a numeric `id` and are answered by an `ack` or an
 * `error` with the same `id` — except a call signal sent without `id`
 * (protocol v3), which gets no ack and, when it cannot be relayed, an
 * `error` that names it in `signal`. Nothing outside this module declares a frame.
 *
 * @module
 */
import type { ErrorCode } from "./errors.ts";
import type { Signal, SignalKind } from "./signal.ts";

/** Any JSON value: what a `message` may carry. */
export type Json =
  | null
  | boolean
  | number
  | string
  | Json[]
  | { [key: string]: Json };

// --- CLIENT → SERVER ---

/**
 * Request types, as a const tuple: each is answered by `ack` or `error`
 * (a `signal` without `id` only by an `error`, if it fails).
 */
export const REQUEST_TYPES = [
  "join",
  "post",
  "users",
  "groups",
  "signal",
  "rename",
  "auth",
] as const;

/** One of {@linkcode REQUEST_TYPES}. */
export type RequestType = typeof REQUEST_TYPES[number];

/**
 * Frames a client sends that are not requests (nothing answers them; the
 * `hello` is answered by the welcome).
 */
export const NOTICE_FRAME_TYPES = ["pong", "bye", "hello"] as const;

/** Every type a client may send. */
export const CLIENT_FRAME_TYPES = [
  ...REQUEST_TYPES,
  ...NOTICE_FRAME_TYPES,
] as const;

/** Joins (or switches to) `group`; `null` leaves the current one. */
export interface JoinRequest {
  type: "join";
  id: number;
  group: string | null;
}

/** To `recipient` (a user_id) privately, or else to the joined group. */
export interface PostRequest {
  type: "post";
  id: number;
  message: Json;
  /** A user_id, or the joined group's name; absent means the joined group. */
  recipient?: string;
}

/** Paging fields shared by the list requests. */
export interface PageRequest {
  /** Rows per page, 1 to {@linkcode LIMITS.maxPageSize}. */
  limit?: number;
  /** Where the previous page ended (its `startKey`). */
  startKey?: string;
  /** Order of the rows. @default true */
  ascending?: boolean;
}

/** Connections in a group (one row per connection). */
export interface UsersRequest extends PageRequest {
  type: "users";
  id: number;
  group: string;
  /** Only this user's connections. */
  user_id?: string;
}

/** Comparisons `groups` may filter with. */
export const CONDITIONS = [
  ">",
  ">=",
  "=",
  "<",
  "<=",
  "!=",
  "gt",
  "gte",
  "eq",
  "lt",
  "lte",
  "ne",
] as const;

/** One of {@linkcode CONDITIONS}. */
export type Condition = typeof CONDITIONS[number];

/** Live groups and their sizes. */
export interface GroupsRequest extends PageRequest {
  type: "groups";
  id: number;
  searchFor?: "group" | "number_of_users";
  value?: string | number;
  condition?: Condition;
  /** Upper end of a range search (with `value` the lower end). */
  range?: string | number;
}

/**
 * Relays `signal` to the connection `to`. With an `id` it is acked like any
 * request (the ring's ack names the callee). Without one (protocol v3) it
 * is relayed with no ack — offers, answers and candidates, the bulk of a
 * call's frames, cost one frame each — and only a failure is answered: an
 * `error` whose `signal` names it ({@linkcode SignalRef}).
 */
export interface SignalRequest {
  type: "signal";
  id?: number;
  to: string;
  signal: Signal;
}

/** Changes this connection's display name; the group is told. */
export interface RenameRequest {
  type: "rename";
  id: number;
  name: string;
}

/** Replaces the access token of a live connection before it expires; same `sub` only. */
export interface AuthRequest {
  type: "auth";
  id: number;
  token: string;
}

/** What a client asks to continue after its socket dropped (see {@linkcode WelcomeFrame.session}). */
export interface ResumeClaim {
  /** The connection to continue. */
  cid: string;
  /** Its secret, from the welcome. */
  session: string;
  /** How many frames the client received on it (pings and welcomes not counted). */
  received: number;
}

/**
 * The credentials of a connection: its first frame, when the URL says one
 * follows (`hello=1`). Secrets travel here, not in the URL, so they stay out
 * of proxy logs and browser history. The server answers with the welcome,
 * or closes with {@linkcode CLOSE.unauthorized} and the reason.
 */
export interface HelloFrame {
  type: "hello";
  /** An access token (servers with `PARLEY_AUTH_SECRET`). */
  token?: string;
  /** The identity proof an earlier welcome gave this client (anonymous use). */
  proof?: string;
  /** Continue a connection whose socket dropped. */
  resume?: ResumeClaim;
}

/**
 * The query parameter (`hello=1`) that tells the server a {@linkcode HelloFrame}
 * comes first; without it the server welcomes at once (a fresh anonymous
 * identity, or the `token` of the query).
 */
export const HELLO_PARAM = "hello";

/** Answer to the server's `ping`. */
export interface PongFrame {
  type: "pong";
  /**
   * How many frames this client has received on its connection (pings and
   * welcomes not counted): the server forgets what it kept for a resume up
   * to there.
   */
  received?: number;
}

/** The client leaves on purpose: no grace period, tell the group at once. */
export interface ByeFrame {
  type: "bye";
}

/** Any request, discriminated on `type`. */
export type ClientRequest =
  | JoinRequest
  | PostRequest
  | UsersRequest
  | GroupsRequest
  | SignalRequest
  | RenameRequest
  | AuthRequest;

/** Any frame a client sends. */
export type ClientFrame = ClientRequest | PongFrame | ByeFrame | HelloFrame;

/** Whom a post goes to, as `parseClientFrame` reads its `recipient`. */
export type Recipient = { user_id: string } | { group: string };

/** A post as `parseClientFrame` returns it: the recipient typed, a user_id lowercased. */
export interface ParsedPostRequest extends Omit<PostRequest, "recipient"> {
  recipient?: Recipient;
}

/** A request as `parseClientFrame` returns it. */
export type ParsedClientRequest = Exclude<ClientRequest, PostRequest> | ParsedPostRequest;

/** A frame as `parseClientFrame` returns it. */
export type ParsedClientFrame = ParsedClientRequest | PongFrame | ByeFrame | HelloFrame;

// --- SERVER → CLIENT ---

/** One row of a users page. */
export interface UserRow {
  /** The user's id (a UUID). */
  user_id: string;
  /** The connection's id (`"cid:…"`): one row per connection. */
  cid: string;
  /** The display name. */
  name: string;
}

/** One row of a groups page. */
export interface GroupRow {
  /** The group's name. */
  group: string;
  /** Connections in it now. */
  number_of_users: number;
}

/** A page of rows; `startKey` is `"end"` and `endOfList` true on the last. */
export interface Page<Row> {
  /** This page's rows. */
  list: Row[];
  /** Where the next page starts (pass it as `startKey`), or `"end"`. */
  startKey: string;
  /** True on the last page. */
  endOfList: boolean;
}

/** What each request's `ack` carries in `result`. */
export interface RequestResults {
  join: { group: string | null };
  post: { delivered: number };
  users: Page<UserRow>;
  groups: Page<GroupRow>;
  /** A ring's ack names the callee's user_id when the server knows it at once. */
  signal: { user_id?: string };
  rename: { name: string };
  /** When the new token expires (ms since the epoch). */
  auth: { expires: number };
}

/** The first frame of every connection. */
export interface WelcomeFrame {
  type: "welcome";
  v: number;
  cid: string;
  user_id: string;
  name: string;
  /** The id of the isolate serving this connection. */
  isolate: string;
  /** Milliseconds between the server's pings. */
  heartbeat: number;
  /**
   * A secret that lets this client take this cid back after its socket
   * dropped: reconnect within `grace` with `?hello=1` and a `hello` frame whose `resume` carries
   * `{ cid, session, received }` (never in the URL).
   */
  session: string;
  /** Milliseconds the server keeps a dropped connection for its client. */
  grace: number;
  /**
   * True when this welcome resumes an earlier connection (same cid and
   * group) and every frame its client missed follows; never true when some
   * can no longer be delivered (the client then starts afresh).
   */
  resumed: boolean;
  /** The group this connection is in: null for a new one, kept on resume. */
  group: string | null;
  /**
   * Anonymous identities only: the server's signed proof of `user_id`. Keep
   * it and present it in the next connections' `hello` to be the same user;
   * a user_id claimed without its proof is never honoured.
   */
  proof?: string;
  /**
   * With an access token: when it expires (ms since the epoch). The server
   * closes the connection then ({@linkcode CLOSE.unauthorized}) unless an
   * `auth` request brought a newer token.
   */
  expires?: number;
}

/**
 * Which unacked signal an `error` is about: its recipient, its call and its
 * kind, so the sender can end that call (e.g. on `NOT_FOUND`, the peer is gone).
 */
export interface SignalRef {
  to: string;
  call: string;
  kind: SignalKind;
}

/** A request succeeded. */
export interface AckFrame<T extends RequestType = RequestType> {
  type: "ack";
  id: number;
  result: RequestResults[T];
}

/**
 * A request failed (`id`), an unacked signal failed (`signal`), or (with
 * neither) the server reports a problem.
 */
export interface ErrorFrame {
  type: "error";
  id?: number;
  /** Protocol v3: the signal without `id` that could not be relayed. */
  signal?: SignalRef;
  code: ErrorCode;
  message: string;
}

/** Fields the server stamps on everything it delivers from someone. */
export interface Stamp {
  sender: string;
  sender_cid: string;
  /** The sender's display name. */
  name: string;
}

/** A group broadcast (the sender receives its own too). */
export interface MessageFrame extends Stamp {
  type: "message";
  message: Json;
  sender_rid: string;
}

/** A direct message to one user (all of its connections). */
export interface PrivateFrame extends Stamp {
  type: "private";
  message: Json;
}

/** Membership notice codes, as a const tuple. */
export const NOTICE_CODES = [
  "USER_JOINED",
  "USER_LEFT",
  "USER_DISCONNECTED",
  "USER_RENAMED",
] as const;

/** One of {@linkcode NOTICE_CODES}. */
export type NoticeCode = typeof NOTICE_CODES[number];

/** A membership change in the group, one per connection. */
export interface NoticeFrame extends Stamp {
  type: "notice";
  code: NoticeCode;
  sender_rid: string;
}

/**
 * Notices of one code in one group, in order: each as `[sender,
 * sender_cid, name]`.
 */
export interface NoticeRun {
  code: NoticeCode;
  sender_rid: string;
  who: Array<[sender: string, sender_cid: string, name: string]>;
}

/**
 * Protocol v2: the notices a socket got within one tick, in one frame (a
 * join storm sends far fewer frames and bytes). It counts as one frame for
 * `received`; the SDK hands on each notice as its own `notice` frame.
 */
export interface NoticesFrame {
  type: "notices";
  runs: NoticeRun[];
}

/** An RTC signal relayed from another connection. */
export interface SignalFrame extends Stamp {
  type: "signal";
  sender_rid: string | null;
  signal: Signal;
}

/** The server's heartbeat; answer with `pong`. */
export interface PingFrame {
  type: "ping";
}

/** Any frame the server sends, discriminated on `type`. */
export type ServerFrame =
  | WelcomeFrame
  | AckFrame
  | ErrorFrame
  | MessageFrame
  | PrivateFrame
  | NoticeFrame
  | NoticesFrame
  | SignalFrame
  | PingFrame;

/** Every type the server may send. */
export const SERVER_FRAME_TYPES = [
  "welcome",
  "ack",
  "error",
  "message",
  "private",
  "notice",
  "notices",
  "signal",
  "ping",
] as const;

/**
 * Builds a `notice` frame: the one place one is made.
 *
 * @example
 * ```ts
 * import { noticeFrame } from "./mod.ts";
 * const stamp = { sender: "0b6c…", sender_cid: "cid:…", name: "Ada" };
 * noticeFrame("USER_JOINED", "lobby", stamp).type; // "notice"
 * ```
 */
export function noticeFrame(code: NoticeCode, group: string, stamp: Stamp): NoticeFrame {
  return {
    type: "notice",
    code,
    sender_rid: group,
    sender: stamp.sender,
    sender_cid: stamp.sender_cid,
    name: stamp.name,
  };
}

/**
 * Packs notices, in order, into one `notices` frame.
 *
 * @example
 * ```ts
 * import { noticeFrame, packNotices, unpackNotices } from "./mod.ts";
 * const a = { sender: "u1", sender_cid: "cid:1", name: "Ada" };
 * const frame = packNotices([noticeFrame("USER_JOINED", "g", a), noticeFrame("USER_LEFT", "g", a)]);
 * unpackNotices(frame).length; // 2
 * ```
 */
export function packNotices(notices: readonly NoticeFrame[]): NoticesFrame {
  const runs: NoticeRun[] = [];
  let run: NoticeRun | undefined;
  for (const notice of notices) {
    if (run?.code !== notice.code || run.sender_rid !== notice.sender_rid) {
      run = { code: notice.code, sender_rid: notice.sender_rid, who: [] };
      runs.push(run);
    }
    run.who.push([notice.sender, notice.sender_cid, notice.name]);
  }
  return { type: "notices", runs };
}

/**
 * The notices of a `notices` frame, in order, each as its own `notice` frame.
 *
 * @example
 * ```ts
 * import { unpackNotices } from "./mod.ts";
 * unpackNotices({ type: "notices", runs: [] }); // []
 * ```
 */
export function unpackNotices(frame: NoticesFrame): NoticeFrame[] {
  const notices: NoticeFrame[] = [];
  for (const { code, sender_rid, who } of frame.runs) {
    for (const [sender, sender_cid, name] of who) {
      notices.push({ type: "notice", code, sender_rid, sender, sender_cid, name });
    }
  }
  return notices;
}

/**
 * Skapi's text of a notice, e.g. `User "…" has joined the message group.`
 *
 * @example
 * ```ts
 * import { noticeText } from "./mod.ts";
 * noticeText("USER_LEFT", "0b6c…"); // 'User "0b6c…" has left the message group.'
 * ```
 */
export function noticeText(code: NoticeCode, userId: string): string {
  switch (code) {
    case "USER_JOINED":
      return `User "${userId}" has joined the message group.`;
    case "USER_LEFT":
      return `User "${userId}" has left the message group.`;
    case "USER_DISCONNECTED":
      return `User "${userId}" has been disconnected.`;
    case "USER_RENAMED":
      return `User "${userId}" has changed their name.`;
  }
}
