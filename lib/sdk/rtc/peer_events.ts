/**
 * Forwards a peer connection's events to the app's callback with the
 * contract's fields. One listener per event: each `icecandidate` is
 * delivered once.
 *
 * @module
 */
import type { PeerEvent, RTCCallback } from "./types.ts";

const PEER_EVENTS = [
  "negotiationneeded",
  "track",
  "icecandidate",
  "icecandidateerror",
  "iceconnectionstatechange",
  "icegatheringstatechange",
  "signalingstatechange",
  "connectionstatechange",
] as const;

/**
 * Calls `emit` for every event of `pc`; returns a function that stops.
 *
 * @example
 * ```ts ignore
 * const stop = forwardPeerEvents(pc, (e) => console.log(e.type, e.timestamp));
 * ```
 */
export function forwardPeerEvents(pc: RTCPeerConnection, emit: RTCCallback): () => void {
  const offs = PEER_EVENTS.map((type) => {
    // deno-lint-ignore no-explicit-any
    const listener = (event: any) => {
      const e: PeerEvent = { type, target: pc, timestamp: new Date().toISOString() };
      switch (type) {
        case "track":
          e.streams = event?.streams ?? [];
          e.track = event?.track;
          break;
        case "icecandidate": {
          const candidate = event?.candidate;
          if (!candidate || !candidate.candidate) {
            e.type = "icecandidateend";
            e.gatheringState = pc.iceGatheringState;
            e.connectionState = pc.connectionState;
            break;
          }
          e.candidate = candidate.candidate;
          e.sdpMid = candidate.sdpMid ?? null;
          e.sdpMLineIndex = candidate.sdpMLineIndex ?? null;
          e.usernameFragment = candidate.usernameFragment ?? null;
          e.protocol = candidate.protocol ?? null;
          e.gatheringState = pc.iceGatheringState;
          e.connectionState = pc.connectionState;
          break;
        }
        case "icecandidateerror":
          e.errorCode = event?.errorCode;
          e.errorText = event?.errorText;
          e.url = event?.url;
          break;
        case "connectionstatechange":
          e.state = pc.connectionState;
          e.iceState = pc.iceConnectionState;
          e.signalingState = pc.signalingState;
          break;
        case "iceconnectionstatechange":
          e.iceState = pc.iceConnectionState;
          break;
        case "icegatheringstatechange":
          e.gatheringState = pc.iceGatheringState;
          break;
        case "signalingstatechange":
          e.signalingState = pc.signalingState;
          break;
      }
      emit(e);
    };
    pc.addEventListener(type, listener);
    return () => pc.removeEventListener(type, listener);
  });
  return () => offs.forEach((off) => off());
}

/**
 * Wraps an app callback so that what it throws (or rejects with) is logged
 * and never reaches the SDK.
 *
 * @example
 * ```ts
 * import { shielded } from "./peer_events.ts";
 * shielded(() => { throw new Error("app bug"); })({} as never); // logged, not thrown
 * ```
 */
export function shielded(callback: RTCCallback | undefined): RTCCallback {
  if (typeof callback !== "function") return () => {};
  return (event) => {
    try {
      const result = callback(event) as unknown;
      if (result && typeof (result as Promise<unknown>).catch === "function") {
        (result as Promise<unknown>).catch((error) =>
          console.error(`parley: the RTC callback failed on "${event.type}"`, error)
        );
      }
    } catch (error) {
      console.error(`parley: the RTC callback threw on "${event.type}"`, error);
    }
  };
}
