/**
 * The public shapes of calls: what `connectRTC` takes and returns, the
 * events its callback receives, and the call's state machine.
 *
 * @module
 */
import type { HangupCode } from "../../protocol/mod.ts";

/** Data-channel presets, as Skapi names them. */
export type ChannelPreset = "text-chat" | "file-transfer" | "gaming" | "video-chat" | "voice-chat";

/** A data channel to open: a preset name, or an RTCDataChannelInit with a `label`. */
export type ChannelOption = ChannelPreset | (RTCDataChannelInit & { label?: string });

/** What a call sends: nothing, constraints for getUserMedia, or a stream the app owns. */
export type MediaOption = boolean | MediaStreamConstraints | MediaStream | null;

/** ICE configuration: a STUN/TURN URL, a list of servers, or a whole RTCConfiguration. */
export type IceOption = string | RTCIceServer[] | RTCConfiguration;

/** Parameters of the callee's `connectRTC` (accepting an incoming call). */
export interface AcceptRTCParams {
  /** @default the server's `/api/ice` answer */
  ice?: IceOption;
  /** @default false */
  media?: MediaOption;
}

/** Parameters of the caller's `connectRTC`. */
export interface ConnectRTCParams extends AcceptRTCParams {
  /** The callee's connection id (`"cid:…"`). */
  cid: string;
  /** @default one reliable ordered channel named `default` */
  channels?: ChannelOption[];
}

/** An established call. */
export interface RTCConnection {
  /** The peer connection. */
  target: RTCPeerConnection;
  /** The call's data channels by label (the same labels on both sides). */
  channels: { [label: string]: RTCDataChannel };
  /** This call's own local stream, or null when it sends nothing. */
  media: MediaStream | null;
  /** Ends the call; resolves once it is closed. */
  hangup(): Promise<void>;
}

/** What the caller's `connectRTC` resolves to. */
export interface RTCConnector {
  /** Cancels while ringing, hangs up after. */
  hangup(): Promise<void>;
  /** The connection once accepted; null when rejected, cancelled, timed out or failed. */
  connection: Promise<RTCConnection | null>;
}

/** The lifecycle of one call, set in one place. */
export enum CallState {
  /** Getting media and ICE servers ready. */
  Preparing = "preparing",
  /** Ringing: waiting for the callee's answer (or the app's, on the callee side). */
  Ringing = "ringing",
  /** Accepted: the peer connection exists and negotiates. */
  Active = "active",
  /** Ended; nothing more happens. */
  Closed = "closed",
}

/** Fields of every RTC event. */
export interface RTCEventBase {
  /** Which event: a peer-connection or data-channel event name. */
  type: string;
  /** An ISO timestamp. */
  timestamp: string;
}

/** A peer-connection event. */
export interface PeerEvent extends RTCEventBase {
  target: RTCPeerConnection;
  type:
    | "negotiationneeded"
    | "track"
    | "icecandidate"
    | "icecandidateend"
    | "icecandidateerror"
    | "iceconnectionstatechange"
    | "icegatheringstatechange"
    | "signalingstatechange"
    | "connectionstatechange";
  /** `track` */
  streams?: readonly MediaStream[];
  /** `track` */
  track?: MediaStreamTrack;
  /** `icecandidate` */
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
  protocol?: string | null;
  gatheringState?: RTCIceGatheringState;
  connectionState?: RTCPeerConnectionState;
  /** `icecandidateerror` */
  errorCode?: number;
  errorText?: string;
  url?: string;
  /** `connectionstatechange` */
  state?: RTCPeerConnectionState;
  iceState?: RTCIceConnectionState;
  signalingState?: RTCSignalingState;
}

/** A data-channel event. */
export interface ChannelEvent extends RTCEventBase {
  target: RTCDataChannel;
  type: "open" | "message" | "close" | "bufferedamountlow" | "error";
  /** The channel's label. */
  label: string;
  /** `message` */
  data?: unknown;
  /** `bufferedamountlow` */
  bufferedAmount?: number;
  bufferedAmountLowThreshold?: number;
  /** `error` */
  error?: unknown;
}

/** What a call's callback receives. */
export type RTCEvent = PeerEvent | ChannelEvent;

/** The callback of `connectRTC`. */
export type RTCCallback = (event: RTCEvent) => void;

/** `rtc:incoming`: someone calls this connection. */
export interface RtcIncomingEvent {
  type: "rtc:incoming";
  sender: string;
  sender_cid: string;
  sender_rid: string | null;
  name: string;
  /** What the caller intends to send. */
  media: { audio: boolean; video: boolean };
  /** Accepts; resolves to the connection (null if the call ended meanwhile). */
  connectRTC(params?: AcceptRTCParams, callback?: RTCCallback): Promise<RTCConnection | null>;
  /** Rejects the call. */
  hangup(): Promise<void>;
}

/** `rtc:closed`: a call ended (rejected, cancelled, timed out, failed or hung up). */
export interface RtcClosedEvent {
  type: "rtc:closed";
  /** The other side's user_id. */
  sender: string;
  /** The other side's connection id. */
  sender_cid: string;
  /** Why it ended. */
  message: string;
  /**
   * `ICE_FAILED` when the two networks could not reach each other (no ICE
   * path within `timeouts.ice`, or none again after a restart); null when a
   * person ended the call.
   */
  code: HangupCode | null;
}

/** `closeRTC`'s argument: one call's peer, or every call. */
export type CloseRTCParams = { cid: string } | { close_all: true };

/** The browser APIs a call needs, injectable outside browsers. */
export interface RtcEnvironment {
  /** @default globalThis.RTCPeerConnection */
  RTCPeerConnection?: typeof RTCPeerConnection;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default navigator.mediaDevices.getUserMedia */
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
}
