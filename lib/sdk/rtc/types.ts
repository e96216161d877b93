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

/** Fields of every RTC event, as Skapi sends them. */
export interface RTCEventBase<T extends string, Target> {
  /** Which event: a peer-connection or data-channel event name. */
  type: T;
  /** The RTCPeerConnection (peer events) or the RTCDataChannel (channel events). */
  target: Target;
  /** The DOM event's `timeStamp` (milliseconds since the page's time origin). */
  timeStamp: number;
  /** The same moment as an ISO date, as Skapi's peer events also carry it. */
  timestamp: string;
}

/** The three states a peer event carries besides its own. */
type Ice = RTCIceConnectionState;
type Gathering = RTCIceGatheringState;
type Signaling = RTCSignalingState;

/** `negotiationneeded`: the peers renegotiate (Parley does it for you). */
export interface NegotiationNeededEvent
  extends RTCEventBase<"negotiationneeded", RTCPeerConnection> {
  signalingState: Signaling;
  /** The ICE connection state, as in Skapi. */
  connectionState: Ice;
  gatheringState: Gathering;
}
/** `track`: a remote track arrived. */
export interface TrackEvent extends RTCEventBase<"track", RTCPeerConnection> {
  streams: readonly MediaStream[];
  track: MediaStreamTrack;
}
/** `icecandidate`: a local candidate, once each. */
export interface IceCandidateEvent extends RTCEventBase<"icecandidate", RTCPeerConnection> {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
  usernameFragment: string | null;
  protocol: string | null;
  gatheringState: Gathering;
  /** The ICE connection state, as in Skapi. */
  connectionState: Ice;
}
/** `icecandidateend`: gathering finished. */
export interface IceCandidateEndEvent extends RTCEventBase<"icecandidateend", RTCPeerConnection> {
  gatheringState: Gathering;
  connectionState: Ice;
}
/** `icecandidateerror`: a STUN/TURN server could not be used. */
export interface IceCandidateErrorEvent
  extends RTCEventBase<"icecandidateerror", RTCPeerConnection> {
  errorCode: number;
  errorText: string;
  url: string;
  /** `address:port` of the local candidate (the deprecated field Skapi reads). */
  hostCandidate: string | null;
  gatheringState: Gathering;
  connectionState: Ice;
}
/** `iceconnectionstatechange`. */
export interface IceConnectionStateChangeEvent
  extends RTCEventBase<"iceconnectionstatechange", RTCPeerConnection> {
  state: Ice;
  gatheringState: Gathering;
  signalingState: Signaling;
}
/** `icegatheringstatechange`. */
export interface IceGatheringStateChangeEvent
  extends RTCEventBase<"icegatheringstatechange", RTCPeerConnection> {
  state: Gathering;
  /** The ICE connection state. */
  connectionState: Ice;
  signalingState: Signaling;
}
/** `signalingstatechange`. */
export interface SignalingStateChangeEvent
  extends RTCEventBase<"signalingstatechange", RTCPeerConnection> {
  state: Signaling;
  /** The ICE connection state. */
  connectionState: Ice;
  gatheringState: Gathering;
}
/**
 * `connectionstatechange`. A call's last event is always one with `state:
 * "closed"`, however it ended; its `target` is null when the call ended
 * before it had a peer connection (a reject, a cancel, no answer).
 */
export interface ConnectionStateChangeEvent
  extends RTCEventBase<"connectionstatechange", RTCPeerConnection | null> {
  state: RTCPeerConnectionState;
  iceState: Ice | "closed";
  signalingState: Signaling;
}

/** Fields of every data-channel event. */
interface OnChannel<T extends string> extends RTCEventBase<T, RTCDataChannel> {
  /** The channel's label. */
  label: string;
  readyState: RTCDataChannelState;
}
/** `open`: a data channel can send. */
export interface ChannelOpenEvent extends OnChannel<"open"> {
  id: number | null;
  ordered: boolean;
  maxRetransmits: number | null;
  maxPacketLifeTime: number | null;
  /** A preset's name for the presets, as in Skapi. */
  protocol: string;
}
/** `message`: data from the other side. */
export interface ChannelMessageEvent extends OnChannel<"message"> {
  data: unknown;
  lastEventId: string;
  origin: string;
  bufferedAmount: number;
}
/** `close`: the channel closed. */
export interface ChannelCloseEvent extends OnChannel<"close"> {
  id: number | null;
}
/** `bufferedamountlow`: the send buffer drained below its threshold. */
export interface ChannelBufferedAmountLowEvent extends OnChannel<"bufferedamountlow"> {
  bufferedAmount: number;
  bufferedAmountLowThreshold: number;
}
/** `error`: the channel failed. */
export interface ChannelErrorEvent extends OnChannel<"error"> {
  /** The error's message text, as in Skapi. */
  error: string;
  /** The same text. */
  message: string;
  /** The RTCError's `errorDetail` (e.g. `"sctp-failure"`). */
  errorCode: string | null;
}

/** Every RTC event by its `type`: the callback of `connectRTC` gets each of these. */
export interface RTCEventMap {
  negotiationneeded: NegotiationNeededEvent;
  track: TrackEvent;
  icecandidate: IceCandidateEvent;
  icecandidateend: IceCandidateEndEvent;
  icecandidateerror: IceCandidateErrorEvent;
  iceconnectionstatechange: IceConnectionStateChangeEvent;
  icegatheringstatechange: IceGatheringStateChangeEvent;
  signalingstatechange: SignalingStateChangeEvent;
  connectionstatechange: ConnectionStateChangeEvent;
  open: ChannelOpenEvent;
  message: ChannelMessageEvent;
  close: ChannelCloseEvent;
  bufferedamountlow: ChannelBufferedAmountLowEvent;
  error: ChannelErrorEvent;
}

/** A peer-connection event. */
export type PeerEvent = RTCEventMap[
  | "negotiationneeded"
  | "track"
  | "icecandidate"
  | "icecandidateend"
  | "icecandidateerror"
  | "iceconnectionstatechange"
  | "icegatheringstatechange"
  | "signalingstatechange"
  | "connectionstatechange"
];

/** A data-channel event. */
export type ChannelEvent =
  RTCEventMap["open" | "message" | "close" | "bufferedamountlow" | "error"];

/** What a call's callback receives. */
export type RTCEvent = RTCEventMap[keyof RTCEventMap];

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

/**
 * `rtc:closed`: the other side ended the call (rejected, cancelled or hung
 * up: `code` null), or it ended without anyone hanging up — unanswered
 * (`TIMEOUT`), the other side's connection gone (`NOT_FOUND`), the path lost
 * (`ICE_FAILED`). Never for this side's own hang-up, reject or closeRTC.
 */
export interface RtcClosedEvent {
  type: "rtc:closed";
  /** The other side's user_id. */
  sender: string;
  /** The other side's connection id. */
  sender_cid: string;
  /** The other side's group when it called or answered, or null. */
  sender_rid: string | null;
  /** As in Skapi: who hung up (the other side's user_id). */
  message: { hungup: string };
  /** Null when the other side hung up; else why the call ended without it. */
  code: RtcClosedCode | null;
  /** What happened, in words. */
  reason: string;
}

/** Why a call ended when nobody hung up. */
export type RtcClosedCode = HangupCode | "TIMEOUT" | "NOT_FOUND" | "CANCELLED";

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
