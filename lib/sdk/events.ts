/**
 * The events of a {@linkcode RealtimeClient}, shaped as Skapi documents them
 * (`rt.type`, `rt.message`, `rt.sender`…), with a typed callback map.
 *
 * @module
 */
import type { ErrorCode, Json, NoticeCode } from "../protocol/mod.ts";
import type { RtcClosedEvent, RtcIncomingEvent } from "./rtc/types.ts";

export type { RtcClosedEvent, RtcIncomingEvent };

/** The SDK's events; the string values are Skapi's `rt.type`. */
export enum RealtimeEvent {
  /** The socket opened and the server welcomed us (again, after a reconnect). */
  Success = "success",
  /** The connection was closed on purpose. */
  Close = "close",
  /** A socket error, a server error frame, or reconnection given up. */
  Error = "error",
  /** The connection was lost; the SDK is trying again. */
  Reconnect = "reconnect",
  /** A group broadcast (your own included). */
  Message = "message",
  /** A direct message. */
  Private = "private",
  /** Someone joined, left, was disconnected or renamed in the group. */
  Notice = "notice",
  /** Someone calls this connection. */
  RtcIncoming = "rtc:incoming",
  /** A call ended: rejected, cancelled, or hung up by the other side. */
  RtcClosed = "rtc:closed",
  /** The connection state changed (not one of Skapi's events). */
  ConnectionStateChanged = "connectionstatechange",
}

/** The connection's lifecycle, set in one place and announced on change. */
export enum ConnectionState {
  Disconnected = "disconnected",
  Connecting = "connecting",
  Connected = "connected",
  Reconnecting = "reconnecting",
}

/** Fields of everything delivered from someone. */
export interface FromSomeone {
  /** The sender's user_id. */
  sender: string;
  /** The sender's connection id. */
  sender_cid: string;
  /** The sender's display name. */
  name: string;
}

/** `success`: connected (or reconnected). */
export interface SuccessEvent {
  type: "success";
  /** `"Connected to WebSocket server."`, as in Skapi, every time. */
  message: string;
  /** True after a lost connection came back. */
  reconnected: boolean;
  /** True when it came back as the same connection (same cid and group, nothing missed). */
  resumed: boolean;
  /** The isolate serving this connection. */
  isolate: string;
  /**
   * True after a reconnect that could not resume the connection (the grace
   * ran out, or the server that held what was sent meanwhile died): this is
   * a fresh connection, rejoined to its group, and messages sent to the old
   * one while it was away may never arrive. False on the first connect and
   * on a resume, which delivers everything missed. (Not in Skapi: an extra
   * field its apps may ignore.)
   */
  missedMessages: boolean;
}
/** `close`: closed on purpose. */
export interface CloseEvent {
  type: "close";
  message: string;
}
/** `error`: something failed that no promise reports. */
export interface ErrorEvent {
  type: "error";
  /** Skapi's text for a socket error or an unexpected close; else what failed. */
  message: string;
  code: ErrorCode;
  /** What the socket or the server said, when it said anything. */
  reason?: string;
}
/** `reconnect`: the connection was lost; attempt `attempt` is under way. */
export interface ReconnectEvent {
  type: "reconnect";
  /** `"Reconnecting to WebSocket server..."` and the attempt's number, as in Skapi. */
  message: string;
  attempt: number;
  /** Why the last connection or attempt ended. */
  reason: string;
}
/** `message`: a group broadcast. */
export interface MessageEvent extends FromSomeone {
  type: "message";
  message: Json;
  sender_rid: string;
  code: null;
}
/** `private`: a direct message. */
export interface PrivateEvent extends FromSomeone {
  type: "private";
  message: Json;
  sender_rid: null;
  code: null;
}
/** `notice`: a membership change, one per connection. */
export interface NoticeEvent extends FromSomeone {
  type: "notice";
  message: string;
  code: NoticeCode;
  sender_rid: string;
}

/** Every event the realtime callback of `connectRealtime` receives. */
export type RealtimeCallbackEvent =
  | SuccessEvent
  | CloseEvent
  | ErrorEvent
  | ReconnectEvent
  | MessageEvent
  | PrivateEvent
  | NoticeEvent
  | RtcIncomingEvent
  | RtcClosedEvent;

/** Listener signatures, by event. */
export interface RealtimeEventCallbacks {
  [RealtimeEvent.Success]: (event: SuccessEvent) => void;
  [RealtimeEvent.Close]: (event: CloseEvent) => void;
  [RealtimeEvent.Error]: (event: ErrorEvent) => void;
  [RealtimeEvent.Reconnect]: (event: ReconnectEvent) => void;
  [RealtimeEvent.Message]: (event: MessageEvent) => void;
  [RealtimeEvent.Private]: (event: PrivateEvent) => void;
  [RealtimeEvent.Notice]: (event: NoticeEvent) => void;
  [RealtimeEvent.RtcIncoming]: (event: RtcIncomingEvent) => void;
  [RealtimeEvent.RtcClosed]: (event: RtcClosedEvent) => void;
  [RealtimeEvent.ConnectionStateChanged]: (
    state: ConnectionState,
    previous: ConnectionState,
  ) => void;
  // deno-lint-ignore no-explicit-any
  [event: string]: (...args: any[]) => void;
}
