/**
 * Forwards a peer connection's events to the app's callback with the
 * fields Skapi gives them, and makes the last event of a call.
 *
 * @module
 */
import type {
  ConnectionStateChangeEvent,
  PeerEvent,
  RTCCallback,
  RTCEventBase,
  RTCEventMap,
} from "./types.ts";

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
 * The fields every RTC event carries: `type`, `target`, the DOM event's
 * numeric `timeStamp` (now, for the SDK's own events) and Skapi's ISO
 * `timestamp`.
 *
 * @example
 * ```ts
 * import { eventBase } from "./peer_events.ts";
 * const base = eventBase("close", null);
 * console.log(typeof base.timeStamp, typeof base.timestamp); // number string
 * ```
 */
export function eventBase<T extends string, Target>(
  type: T,
  target: Target,
  event?: { timeStamp?: number },
): RTCEventBase<T, Target> {
  const timeStamp = typeof event?.timeStamp === "number" ? event.timeStamp : performance.now();
  return { type, target, timeStamp, timestamp: new Date().toISOString() };
}

/**
 * The last event of every call: `connectionstatechange` with `state:
 * "closed"` (the browser fires none when the SDK closes the connection).
 *
 * @example
 * ```ts
 * import { closedEvent } from "./peer_events.ts";
 * console.log(closedEvent(null).state); // "closed"
 * ```
 */
export function closedEvent(pc: RTCPeerConnection | null): ConnectionStateChangeEvent {
  return {
    ...eventBase("connectionstatechange", pc),
    state: "closed",
    iceState: pc?.iceConnectionState ?? "closed",
    signalingState: pc?.signalingState ?? "closed",
  };
}

// deno-lint-ignore no-explicit-any
function peerEvent(type: typeof PEER_EVENTS[number], pc: RTCPeerConnection, event: any): PeerEvent {
  const base = eventBase(type, pc, event);
  const ice = pc.iceConnectionState;
  const gathering = pc.iceGatheringState;
  const signaling = pc.signalingState;
  switch (type) {
    case "negotiationneeded":
      return {
        ...base,
        type,
        signalingState: signaling,
        connectionState: ice,
        gatheringState: gathering,
      };
    case "track":
      return { ...base, type, streams: event?.streams ?? [], track: event?.track };
    case "icecandidate": {
      const candidate = event?.candidate;
      if (!candidate || !candidate.candidate) {
        const end: RTCEventMap["icecandidateend"] = {
          ...base,
          type: "icecandidateend",
          gatheringState: gathering,
          connectionState: ice,
        };
        return end;
      }
      return {
        ...base,
        type,
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
        usernameFragment: candidate.usernameFragment ?? null,
        protocol: candidate.protocol ?? null,
        gatheringState: gathering,
        connectionState: ice,
      };
    }
    case "icecandidateerror": {
      // Chromium keeps the deprecated `hostCandidate` as "": build it from address and port.
      const host = event?.hostCandidate ||
        (event?.address ? `${event.address}:${event.port ?? ""}` : null);
      return {
        ...base,
        type,
        errorCode: event?.errorCode,
        errorText: event?.errorText ?? "",
        url: event?.url ?? "",
        hostCandidate: host,
        gatheringState: gathering,
        connectionState: ice,
      };
    }
    case "iceconnectionstatechange":
      return { ...base, type, state: ice, gatheringState: gathering, signalingState: signaling };
    case "icegatheringstatechange":
      return { ...base, type, state: gathering, connectionState: ice, signalingState: signaling };
    case "signalingstatechange":
      return { ...base, type, state: signaling, connectionState: ice, gatheringState: gathering };
    case "connectionstatechange":
      return { ...base, type, state: pc.connectionState, iceState: ice, signalingState: signaling };
  }
}

/**
 * Calls `emit` for every event of `pc` with Skapi's fields; returns a
 * function that stops. One listener per event: each `icecandidate` is
 * delivered once.
 *
 * @example
 * ```ts ignore
 * const stop = forwardPeerEvents(pc, (e) => console.log(e.type, e.timeStamp));
 * ```
 */
export function forwardPeerEvents(pc: RTCPeerConnection, emit: RTCCallback): () => void {
  const offs = PEER_EVENTS.map((type) => {
    const listener = (event: Event) => emit(peerEvent(type, pc, event));
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
