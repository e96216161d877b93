// Over 300 lines: Skapi's whole realtime surface is one class; each method is short and delegates.
/**
 * `RealtimeClient`: Skapi's Realtime API over a Parley server. Requests are
 * acknowledged by the server before their promise resolves, bad arguments
 * are refused locally with a typed error, and every promise settles.
 *
 * @module
 */
import {
  errorCodeOf,
  type GroupRow,
  type GroupsRequest,
  isGroupName,
  isUserId,
  LIMITS,
  noticeText,
  type Page,
  parseDisplayName,
  parseRecipient,
  payloadText,
  type ServerFrame,
  type UserRow,
  type WelcomeFrame,
} from "../protocol/mod.ts";
import type { Timeouts } from "./defaults.ts";
import { TypedEmitter } from "./emitter.ts";
import { RealtimeError } from "./errors.ts";
import {
  ConnectionState,
  type ErrorEvent as RealtimeErrorEvent,
  type RealtimeCallbackEvent,
  RealtimeEvent,
  type RealtimeEventCallbacks,
} from "./events.ts";
import { type FormInput, withForm } from "./forms.ts";
import { defaultUrl, identityStore } from "./identity.ts";
import { type FetchOptions, Pages } from "./pages.ts";
import { Signaling } from "./signaling.ts";
import { Calls } from "./rtc/calls.ts";
import type { CloseRTCParams, ConnectRTCParams, RTCCallback, RTCConnector } from "./rtc/types.ts";

/** Options of {@linkcode RealtimeClient}. */
export interface RealtimeClientOptions {
  /** The endpoint. @default the page's origin + `/api/realtime` (required outside browsers) */
  url?: string;
  /** A signed access token, when the server requires one. */
  token?: string;
  /**
   * Gets a fresh access token: called on each reconnect and shortly before
   * the current one expires, so a page can refresh without dropping its
   * calls. Used for the first connect too when `token` is not given.
   */
  getToken?: () => string | Promise<string>;
  /** A display name for anonymous use. */
  name?: string;
  /** Overrides of the SDK's timeouts. */
  timeouts?: Partial<Timeouts>;
  /** The WebSocket constructor. @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket;
  /** The RTCPeerConnection constructor, e.g. werift's outside browsers. @default globalThis.RTCPeerConnection */
  RTCPeerConnection?: typeof RTCPeerConnection;
  /** Sugar for `on("connectionstatechange", …)`. */
  onStateChange?: RealtimeEventCallbacks[RealtimeEvent.ConnectionStateChanged];
}

/** Who this client is: `skapi.user`. */
export interface RealtimeUser {
  /** The user's id (a UUID). */
  user_id: string;
  /** This connection's id (`"cid:…"`). */
  cid: string;
  /** The display name. */
  name: string;
}

/**
 * Skapi's texts of the realtime callback's events and of what its methods
 * resolve to, word for word (apps compare them).
 *
 * @example
 * ```ts
 * import { REALTIME_TEXTS } from "./client.ts";
 * REALTIME_TEXTS.joined("HelloWorld"); // 'Joined realtime message group: "HelloWorld".'
 * ```
 */
export const REALTIME_TEXTS = {
  connected: "Connected to WebSocket server.",
  closed: "WebSocket connection closed.",
  socketError: "Skapi: WebSocket connection error.",
  unexpectedClose: "Skapi: WebSocket unexpected close.",
  reconnecting: "Reconnecting to WebSocket server...",
  sent: "Message sent.",
  left: "Left realtime message group.",
  joined: (group: string) => `Joined realtime message group: "${group}".`,
} as const;

/** What joins, posts and other actions resolve to, as in Skapi. */
export interface Success {
  type: "success";
  message: string;
}

/** What a post resolves to once acked (a fresh object each time: it is the caller's). */
const sent = (): Success => ({ type: "success", message: REALTIME_TEXTS.sent });

const SKAPI_EVENTS = [
  RealtimeEvent.Success,
  RealtimeEvent.Close,
  RealtimeEvent.Error,
  RealtimeEvent.Reconnect,
  RealtimeEvent.Message,
  RealtimeEvent.Private,
  RealtimeEvent.Notice,
  RealtimeEvent.RtcIncoming,
  RealtimeEvent.RtcClosed,
] as const;

/** A protocol validator's complaint about the caller's input, as the SDK's typed error. */
function inputError(error: unknown, what: string): RealtimeError {
  const message = String((error as Error)?.message ?? error)
    .replace(/^Cannot accept frame as/, `Cannot ${what} as`);
  return new RealtimeError(errorCodeOf(error), message);
}

/**
 * A client of Parley's realtime API.
 *
 * @example Two scripts meet in a group
 * ```ts ignore
 * const skapi = new RealtimeClient({ url: "ws://localhost:8000/api/realtime", name: "Ada" });
 * await skapi.connectRealtime((rt) => console.log(rt.type, rt.message));
 * await skapi.joinRealtime({ group: "lobby" });
 * await skapi.postRealtime({ text: "hello" }, "lobby");
 * ```
 */
export class RealtimeClient extends TypedEmitter<RealtimeEventCallbacks> {
  /** The socket layer; the calls module relays RTC signals over it. @internal */
  readonly signaling: Signaling;
  /** The calls of this connection. @internal */
  readonly calls: Calls;
  #group: string | null = null;
  /** The callbacks given to connectRealtime, each registered once. */
  #callbackOffs = new Map<(event: RealtimeCallbackEvent) => void, () => void>();
  /** The join under way, which a group post made meanwhile waits for. */
  #joining: Promise<unknown> | null = null;
  /** Kept after closeRealtime, as Skapi keeps `skapi.user`. */
  #user: RealtimeUser | null = null;
  readonly #pages: Pages;

  /**
   * Creates a client; nothing connects until `connectRealtime()` (or a
   * list, post or call made before it).
   *
   * @throws {RealtimeError} `INVALID_PARAMETER` when no `url` is given outside a browser
   */
  constructor(readonly options: RealtimeClientOptions = {}) {
    super();
    const url = options.url ?? defaultUrl();
    if (!url) {
      throw RealtimeError.invalidParameter(
        "Cannot create a RealtimeClient as 'url' is required outside a browser",
      );
    }
    this.signaling = new Signaling({ ...options, url, identity: identityStore() });
    this.#pages = new Pages(this.signaling);
    this.signaling.on("state", (state, previous) => {
      this.emit(RealtimeEvent.ConnectionStateChanged, state, previous);
    });
    this.signaling.on("welcome", (welcome, reconnected) => this.#onWelcome(welcome, reconnected));
    this.signaling.on("frame", (frame) => this.#onFrame(frame));
    this.signaling.on("reconnect", (attempt, reason) => {
      this.emit(RealtimeEvent.Reconnect, {
        type: "reconnect",
        message: REALTIME_TEXTS.reconnecting + attempt,
        attempt,
        reason,
      });
    });
    // As in Skapi: a socket error, an unexpected close and a give-up each tell the callback.
    this.signaling.on("socketerror", (detail) => {
      this.#tellError("NOT_CONNECTED", REALTIME_TEXTS.socketError, detail || undefined);
    });
    this.signaling.on("lost", (code, reason) => {
      this.#tellError("NOT_CONNECTED", REALTIME_TEXTS.unexpectedClose, `${code} ${reason}`.trim());
    });
    this.signaling.on("gaveup", (error) => {
      this.#tellError(error.code, `Gave up reconnecting: ${error.message}`);
    });
    const signaling = this.signaling;
    this.calls = new Calls(this.signaling, {
      url,
      get token() {
        return signaling.token;
      },
      RTCPeerConnection: options.RTCPeerConnection,
    }, {
      incoming: (event) => this.emit(RealtimeEvent.RtcIncoming, event),
      closed: (event) => this.emit(RealtimeEvent.RtcClosed, event),
    });
    if (options.onStateChange) this.on(RealtimeEvent.ConnectionStateChanged, options.onStateChange);
  }

  /** `{ user_id, cid, name }` once connected (kept after closeRealtime, as in Skapi), else null. */
  get user(): RealtimeUser | null {
    return this.#user;
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.signaling.state;
  }

  /** The group this connection has joined, or null. */
  get group(): string | null {
    return this.#group;
  }

  async #onWelcome(welcome: WelcomeFrame, reconnected: boolean): Promise<void> {
    const { isolate, resumed } = welcome;
    this.#user = { user_id: welcome.user_id, cid: welcome.cid, name: welcome.name };
    // A resumed connection is still in its group; a fresh one after a loss joins again.
    if (reconnected && !resumed && this.#group !== null) {
      try {
        await this.signaling.request({ type: "join", group: this.#group }, "rejoin the group");
      } catch (error) {
        this.#reportError(error);
      }
    }
    this.emit(RealtimeEvent.Success, {
      type: "success",
      message: REALTIME_TEXTS.connected,
      reconnected,
      resumed,
      isolate,
      missedMessages: reconnected && !resumed,
    });
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "message":
        return this.emit(RealtimeEvent.Message, { ...frame, code: null });
      case "private":
        return this.emit(RealtimeEvent.Private, { ...frame, sender_rid: null, code: null });
      case "notice":
        return this.emit(RealtimeEvent.Notice, {
          ...frame,
          message: noticeText(frame.code, frame.sender),
        });
      case "error":
        return this.emit(RealtimeEvent.Error, frame);
    }
  }

  #reportError(error: unknown): void {
    const code = error instanceof RealtimeError ? error.code : errorCodeOf(error);
    this.#tellError(code, String((error as Error)?.message ?? error));
  }

  #tellError(code: RealtimeErrorEvent["code"], message: string, reason?: string): void {
    this.emit(RealtimeEvent.Error, { type: "error", code, message, ...(reason ? { reason } : {}) });
  }

  /**
   * Opens the connection; every realtime event goes to `callback`. A second
   * call returns the same connection and adds its callback: as in Skapi,
   * every callback given keeps receiving the events, each once.
   */
  async connectRealtime(callback?: (event: RealtimeCallbackEvent) => void): Promise<WebSocket> {
    if (typeof callback === "function" && !this.#callbackOffs.has(callback)) {
      const offs = SKAPI_EVENTS.map((event) => this.on(event, callback));
      this.#callbackOffs.set(callback, () => offs.forEach((off) => off()));
    }
    await this.signaling.connect();
    return this.signaling.socket!;
  }

  /**
   * Hangs up every call, leaves the group and closes; the callbacks get
   * `close`, then no more events (a later connectRealtime starts afresh).
   * `user` stays set, as in Skapi.
   */
  async closeRealtime(): Promise<void> {
    await this.calls.closeRTC({ close_all: true });
    const wasOpen = this.signaling.state !== ConnectionState.Disconnected;
    this.#group = null;
    this.signaling.close();
    if (wasOpen) this.emit(RealtimeEvent.Close, { type: "close", message: REALTIME_TEXTS.closed });
    for (const off of this.#callbackOffs.values()) off();
    this.#callbackOffs.clear();
  }

  /**
   * Calls connection `params.cid` (or a form's fields); RTC events go to
   * `callback`. See lib/sdk/rtc/calls.ts. The connector's `connection`
   * always settles.
   */
  connectRTC(params: ConnectRTCParams | FormInput, callback?: RTCCallback): Promise<RTCConnector> {
    return withForm(params, (data) => this.calls.connectRTC(data as ConnectRTCParams, callback));
  }

  /** Ends the call with `{ cid }`, or every call with `{ close_all: true }`. */
  closeRTC(params: CloseRTCParams | FormInput): Promise<void> {
    return withForm(params, (data) => this.calls.closeRTC(data as CloseRTCParams));
  }

  /**
   * Joins (or switches to) `group` — any text of 1–64 characters, spaces
   * included; `null`, `""` or no group leaves the current one. Takes a
   * form's submit event too (its `group` field).
   */
  joinRealtime(params: { group?: string | null } | FormInput): Promise<Success> {
    return withForm(params, (data) => this.#join(data as { group?: string | null }), {
      nullIfEmpty: true,
    });
  }

  async #join(params: { group?: string | null }): Promise<Success> {
    const given = params?.group;
    const group = given === "" || given === undefined ? null : given;
    if (group !== null && !isGroupName(group)) {
      throw RealtimeError.invalidParameter(
        `Cannot join as 'group' must be 1–${LIMITS.maxGroupNameLength} characters without control characters: current value is ${
          JSON.stringify(group)
        }`,
      );
    }
    // Skapi's docs call joinRealtime right after connectRealtime, unawaited:
    // the request waits for the socket (see Signaling.request).
    if (
      group === null && this.#group === null && this.signaling.state !== ConnectionState.Connecting
    ) {
      return { type: "success", message: REALTIME_TEXTS.left };
    }
    // The group is set as the ack arrives, before anyone awaiting the join resumes.
    const joining = this.signaling.request({ type: "join", group }, "join the group")
      .then((result) => this.#group = result.group);
    this.#joining = joining;
    try {
      await joining;
    } finally {
      if (this.#joining === joining) this.#joining = null;
    }
    return {
      type: "success",
      message: group === null ? REALTIME_TEXTS.left : REALTIME_TEXTS.joined(group),
    };
  }

  /**
   * Sends `message` (or a form's named fields) to `recipient` privately when
   * it is a user_id, else to the joined group. Resolves after the server
   * acknowledged it; a form's page does not navigate.
   */
  postRealtime(message: unknown, recipient?: string): Promise<Success> {
    return withForm(message, (data) => this.#post(data, recipient));
  }

  #post(message: unknown, recipient?: string): Promise<Success> {
    // As in Skapi, a post right after an unawaited join goes to the group being joined.
    if (this.#joining && !isUserId(recipient)) {
      return this.#joining.catch(() => {}).then(() => this.#postNow(message, recipient));
    }
    return this.#postNow(message, recipient);
  }

  /** Checks and sends a post; the message is written as JSON once, for its size check and the frame. */
  #postNow(message: unknown, recipient?: string): Promise<Success> {
    let payload, to;
    try {
      payload = payloadText(message);
      to = recipient === undefined ? undefined : parseRecipient(recipient);
    } catch (error) {
      return Promise.reject(inputError(error, "post"));
    }
    if (!to && this.#group === null) {
      return Promise.reject(
        new RealtimeError(
          "INVALID_REQUEST",
          "Cannot post as no group is joined: call joinRealtime() first, or name a user_id",
        ),
      );
    }
    if (to && "group" in to && to.group !== this.#group) {
      return Promise.reject(
        new RealtimeError(
          "INVALID_REQUEST",
          `Cannot post as this connection has not joined group ${
            JSON.stringify(to.group)
          }: run joinRealtime({ group: ${JSON.stringify(to.group)} }) first`,
        ),
      );
    }
    return this.signaling.post(payload, recipient, "post the message").then(sent);
  }

  /** Sets this connection's display name; the group sees `USER_RENAMED`. */
  async setName(name: string): Promise<string> {
    let cleaned;
    try {
      cleaned = parseDisplayName(name);
    } catch (error) {
      throw inputError(error, "rename");
    }
    return (await this.signaling.request({ type: "rename", name: cleaned }, "rename")).name;
  }

  /**
   * Connections in a group (default: the joined one), one row per
   * connection. Works without an open socket too (over HTTP), as in Skapi.
   */
  getRealtimeUsers(
    params: { group?: string; user_id?: string } | FormInput = {},
    fetchOptions: FetchOptions = {},
  ): Promise<Page<UserRow>> {
    return withForm(params, (data) => {
      const { group = this.#group, user_id } = (data ?? {}) as { group?: string; user_id?: string };
      if (!isGroupName(group)) {
        throw RealtimeError.invalidParameter(
          "Cannot list users as no group is named or joined: pass { group }",
        );
      }
      return this.#pages.fetch("users", { group, user_id }, fetchOptions).then((page) => {
        for (const row of page.list) this.calls.learn(row.cid, row.user_id, group);
        return page;
      });
    });
  }

  /**
   * Live groups with their number of users. As in Skapi, a `value` without
   * a `condition` is an exact match and `>=` on a name means "starts with".
   * Works without an open socket too (over HTTP).
   */
  getRealtimeGroups(
    params: GroupsParams | FormInput | null = {},
    fetchOptions: FetchOptions = {},
  ): Promise<Page<GroupRow>> {
    return withForm(params, (data) => this.#pages.fetch("groups", data ?? {}, fetchOptions));
  }
}

/** What getRealtimeGroups searches by, as in Skapi. */
export type GroupsParams = Omit<GroupsRequest, "type" | "id" | "limit" | "startKey" | "ascending">;
