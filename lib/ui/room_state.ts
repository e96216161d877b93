/**
 * The shared state of a room page: module-level signals that the Lobby,
 * CallDialog and MediaViews islands read, fed by the client's events
 * (`room_client.ts`) and by the call actions (`calls.ts`). Plain data and
 * signals, and one helper to make chat lines.
 *
 * @module
 */
import { computed, type Signal, signal } from "@preact/signals";
import type { RealtimeClient } from "../sdk/client.ts";
import { ConnectionState } from "../sdk/events.ts";
import type { RTCConnection, RtcIncomingEvent } from "../sdk/rtc/types.ts";

/** Someone in the room: one row per connection. */
export interface Person {
  cid: string;
  user_id: string;
  name: string;
}

/** One line of a chat (the room's, or the call's). */
export interface ChatLine {
  id: number;
  from: string;
  text: string;
  mine: boolean;
}

/** A message for the person at the keyboard: what happened and what to do. */
export interface Notice {
  text: string;
  tone: "info" | "error";
}

/** One remote participant of the call on this page. */
export interface CallView {
  /** Their connection id. */
  cid: string;
  name: Signal<string>;
  /** `new` until the peer connection reports, then its `connectionState`. */
  state: Signal<RTCPeerConnectionState>;
  /** What they send, once their first track arrived. */
  stream: Signal<MediaStream | null>;
  /** Whether their stream has a video track. */
  video: Signal<boolean>;
  /** The established call, once accepted. */
  conn: RTCConnection | null;
  /** Part of the group call (rather than a one-to-one call). */
  group: boolean;
}

/** The outgoing one-to-one call that is ringing. */
export interface Outgoing {
  cid: string;
  name: string;
  /** Cancels it (a no-op until the ring is on its way). */
  cancel: () => void;
}

/** What a transfer is doing. */
export type TransferStatus = "sending" | "sent" | "receiving" | "verified" | "damaged" | "failed";

/** One file on its way to or from one person. */
export interface Transfer {
  id: string;
  name: string;
  size: number;
  /** The other side's name. */
  peer: string;
  direction: "send" | "receive";
  /** Bytes done so far. */
  done: Signal<number>;
  status: Signal<TransferStatus>;
  /** An object URL of the received file, once verified. */
  url: Signal<string | null>;
}

/** The client of this page, while the room is entered. */
export const session: { client: RealtimeClient | null } = { client: null };

/** The realtime connection's state, as the client announces it. */
export const connectionState: Signal<ConnectionState> = signal(ConnectionState.Disconnected);
/** This connection, once in the room. */
export const me: Signal<Person | null> = signal(null);
/** Everyone in the room, this connection included. */
export const people: Signal<Person[]> = signal([]);
/** The room's chat (group messages). */
export const roomChat: Signal<ChatLine[]> = signal([]);
/** The banner message, if any. */
export const notice: Signal<Notice | null> = signal(null);
/** The server refused this tab's credentials: the room is private and needs an invite link. */
export const privateRoom: Signal<boolean> = signal(false);

/** The remote participants of the current call(s). */
export const calls: Signal<CallView[]> = signal([]);
/** Incoming calls waiting for an answer, oldest first. */
export const ringing: Signal<RtcIncomingEvent[]> = signal([]);
/** The outgoing one-to-one call that is ringing. */
export const outgoing: Signal<Outgoing | null> = signal(null);
/** How the last ringing call ended (rejected, missed…), shown until dismissed. */
export const outcome: Signal<string | null> = signal(null);
/** Whether this page has joined the room's group call. */
export const inGroupCall: Signal<boolean> = signal(false);

/** The camera and microphone stream every call of this page sends. */
export const localStream: Signal<MediaStream | null> = signal(null);
/** The screen being shared, if any. */
export const screenTrack: Signal<MediaStreamTrack | null> = signal(null);
/** Whether the microphone is on. */
export const micOn: Signal<boolean> = signal(true);
/** Whether the camera is on. */
export const camOn: Signal<boolean> = signal(true);
/** Cameras and microphones to choose from. */
export const devices: Signal<MediaDeviceInfo[]> = signal([]);
/** Whether the tiles show their connection quality. */
export const showQuality: Signal<boolean> = signal(false);
/** The in-call chat (over the data channels). */
export const callChat: Signal<ChatLine[]> = signal([]);
/** File transfers of this call. */
export const transfers: Signal<Transfer[]> = signal([]);

/** Whether this page is in a call (and shows the media views). */
export const inCall: Signal<boolean> = computed(() => calls.value.length > 0 || inGroupCall.value);

let lineId = 0;
/** A new chat line with a page-unique id. */
export function chatLine(from: string, text: string, mine: boolean): ChatLine {
  return { id: ++lineId, from, text, mine };
}
