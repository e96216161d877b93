/**
 * `RealtimeClient`: Skapi's Realtime API over a Parley server. Requests are
 * acknowledged by the server before their promise resolves, bad arguments
 * are refused locally with a typed error, and every promise settles.
 *
 * @module
 */
import {
  checkPayload,
  errorCodeOf,
  type GroupRow,
  type GroupsRequest,
  isGroupName,
  isUserId,
  LIMITS,
  noticeText,
  type Page,
  type ServerFrame,
  type UserRow,
  type WelcomeFrame,
} from "../protocol/mod.ts";
import type { Timeouts } from "./defaults.ts";
import { TypedEmitter } from "./emitter.ts";
import { RealtimeError } from "./errors.ts";
import {
  ConnectionState,
  type RealtimeCallbackEvent,
  RealtimeEvent,
  type RealtimeEventCallbacks,
} from "./events.ts";
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

/** What joins, posts and other actions resolve to, as in Skapi. */
export interface Success {
  type: "success";
  message: string;
}

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
  #callbackOff: (() => void) | null = null;
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
        message: `Connection lost (${reason}); reconnecting, attempt ${attempt}.`,
        attempt,
      });
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

  /** `{ user_id, cid, name }` once connected, else null. */
  get user(): { user_id: string; cid: string; name: string } | null {
    const welcome = this.signaling.welcome;
    return welcome ? { user_id: welcome.user_id, cid: welcome.cid, name: welcome.name } : null;
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.signaling.state;
  }

  /** The group this connection has joined, or null. */
  get group(): string | null {
    return this.#group;
  }

  async #onWelcome({ isolate, resumed }: WelcomeFrame, reconnected: boolean): Promise<void> {
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
      message: resumed
        ? "Resumed the connection to WebSocket server."
        : reconnected
        ? "Reconnected to WebSocket server."
        : "Connected to WebSocket server.",
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
    this.emit(RealtimeEvent.Error, {
      type: "error",
      code,
      message: String((error as Error)?.message ?? error),
    });
  }

  /**
   * Opens the connection; every realtime event goes to `callback`. A second
   * call returns the same connection (and moves the events to the new callback).
   */
  async connectRealtime(callback?: (event: RealtimeCallbackEvent) => void): Promise<WebSocket> {
    if (callback) {
      this.#callbackOff?.();
      const offs = SKAPI_EVENTS.map((event) => this.on(event, callback));
      this.#callbackOff = () => offs.forEach((off) => off());
    }
    await this.signaling.connect();
    return this.signaling.socket!;
  }

  /** Hangs up every call, leaves the group and closes; the callback gets `close`. */
  async closeRealtime(): Promise<void> {
    await this.calls.closeRTC({ close_all: true });
    const wasOpen = this.signaling.state !== ConnectionState.Disconnected;
    this.#group = null;
    this.signaling.close();
    if (wasOpen) {
      this.emit(RealtimeEvent.Close, { type: "close", message: "WebSocket connection closed." });
    }
  }

  /**
   * Calls connection `params.cid`; RTC events go to `callback`. See
   * lib/sdk/rtc/calls.ts. The connector's `connection` always settles.
   */
  connectRTC(params: ConnectRTCParams, callback?: RTCCallback): Promise<RTCConnector> {
    return this.calls.connectRTC(params, callback);
  }

  /** Ends the call with `{ cid }`, or every call with `{ close_all: true }`. */
  closeRTC(params: CloseRTCParams): Promise<void> {
    return this.calls.closeRTC(params);
  }

  /** Joins (or switches to) `group`; `null` or `""` leaves the current one. */
  async joinRealtime(params: { group: string | null }): Promise<Success> {
    const group = params?.group === "" ? null : params?.group;
    if (group !== null && !isGroupName(group)) {
      throw RealtimeError.invalidParameter(
        `Cannot join as 'group' must be 1–${LIMITS.maxGroupNameLength} letters, digits, '-', '_' or '.': current value is ${
          JSON.stringify(group)
        }`,
      );
    }
    const left = this.#group;
    // Skapi's docs call joinRealtime right after connectRealtime, unawaited.
    if (this.signaling.state === ConnectionState.Connecting) await this.signaling.connect();
    const result = await this.signaling.request({ type: "join", group }, "join the group");
    this.#group = result.group;
    return {
      type: "success",
      message: group === null
        ? `Left realtime group "${left}".`
        : `Joined realtime group "${group}".`,
    };
  }

  /**
   * Sends `message` to `recipient` privately when it is a user_id, else to
   * the joined group. Resolves after the server acknowledged it.
   */
  async postRealtime(message: unknown, recipient?: string): Promise<Success> {
    let payload;
    try {
      payload = checkPayload(message);
    } catch (error) {
      throw new RealtimeError(errorCodeOf(error), (error as Error).message);
    }
    if (recipient !== undefined && !isUserId(recipient) && !isGroupName(recipient)) {
      throw RealtimeError.invalidParameter(
        `Cannot post as 'recipient' must be a user_id or a group name: current value is ${
          JSON.stringify(recipient)
        }`,
      );
    }
    if (recipient === undefined && this.#group === null) {
      throw new RealtimeError(
        "INVALID_REQUEST",
        "Cannot post as no group is joined: call joinRealtime() first, or name a user_id",
      );
    }
    await this.signaling.request({ type: "post", message: payload, recipient }, "post the message");
    return { type: "success", message: "Message sent." };
  }

  /** Sets this connection's display name; the group sees `USER_RENAMED`. */
  async setName(name: string): Promise<string> {
    const trimmed = String(name ?? "").trim();
    if (!trimmed || trimmed.length > LIMITS.maxDisplayNameLength) {
      throw RealtimeError.invalidParameter(
        `Cannot rename as 'name' must be 1–${LIMITS.maxDisplayNameLength} characters`,
      );
    }
    return (await this.signaling.request({ type: "rename", name: trimmed }, "rename")).name;
  }

  /** Connections in a group (default: the joined one), one row per connection. */
  getRealtimeUsers(
    params: { group?: string; user_id?: string } = {},
    fetchOptions: FetchOptions = {},
  ): Promise<Page<UserRow>> {
    const group = params.group ?? this.#group;
    if (!isGroupName(group)) {
      return Promise.reject(RealtimeError.invalidParameter(
        "Cannot list users as no group is named or joined: pass { group }",
      ));
    }
    return this.#pages.fetch("users", { group, user_id: params.user_id }, fetchOptions);
  }

  /** Live groups with their number of users. */
  getRealtimeGroups(
    params: Omit<GroupsRequest, "type" | "id" | "limit" | "startKey" | "ascending"> = {},
    fetchOptions: FetchOptions = {},
  ): Promise<Page<GroupRow>> {
    return this.#pages.fetch("groups", params, fetchOptions);
  }
}
