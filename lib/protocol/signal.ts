// Over 300 lines: every call-signal kind and its checks, one concern.
/**
 * RTC signals: what two connections exchange to set up a call, relayed by
 * the server to one cid. Opaque to the server, but checked like any frame.
 *
 * @module
 */
import type { ErrorCode } from "./errors.ts";
import { exceedsBytes, LIMITS, type Limits } from "./limits.ts";
import { isObject, onlyFields, optionalString, reject, tagged } from "./_util.ts";

/** The kinds of RTC signal, as a const tuple. */
export const SIGNAL_KINDS = [
  "call",
  "accept",
  "reject",
  "hangup",
  "description",
  "candidate",
] as const;

/** One of {@linkcode SIGNAL_KINDS}. */
export type SignalKind = typeof SIGNAL_KINDS[number];

/** SDP types a `description` signal may carry. */
export const SDP_TYPES = ["offer", "answer", "pranswer", "rollback"] as const;

/** An RTCSessionDescriptionInit as it travels. */
export interface SessionDescription {
  type: typeof SDP_TYPES[number];
  sdp?: string;
}

/** An RTCIceCandidateInit as it travels. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** Fields every signal has: which call (a random id chosen by the caller). */
interface SignalBase {
  call: string;
}

/**
 * A data channel both sides create with the same `id` (`negotiated: true`),
 * so its label is in `channels` on both sides from the start.
 */
export interface ChannelSpec {
  label: string;
  /** The SCTP stream id, unique within the call. */
  id: number;
  ordered?: boolean;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol?: string;
}

/** Most data channels one call may declare. */
export const MAX_CHANNELS = 32;

/** A ring: the caller asks the callee to start call `call`. */
export interface CallSignal extends SignalBase {
  kind: "call";
  /** What the caller intends to send, so the callee can show it. */
  media?: { audio: boolean; video: boolean };
  /** The call's data channels, which the callee creates too. */
  channels?: ChannelSpec[];
}
/** The callee takes the call. */
export interface AcceptSignal extends SignalBase {
  kind: "accept";
}
/** The callee declines the ring. */
export interface RejectSignal extends SignalBase {
  kind: "reject";
  reason?: string;
}
/**
 * Why a call ended, as a code both sides can branch on (the `reason` text is
 * for people). `ICE_FAILED`: the two networks could not reach each other —
 * ICE found no path in time, or failed again after a restart.
 */
export const HANGUP_CODES = ["ICE_FAILED"] as const satisfies readonly ErrorCode[];

/** One of {@linkcode HANGUP_CODES}. */
export type HangupCode = typeof HANGUP_CODES[number];

/** Either side ends the call (or cancels the ring). */
export interface HangupSignal extends SignalBase {
  kind: "hangup";
  reason?: string;
  /** Set when the call ended for a reason the other side must know, not a person's hang-up. */
  code?: HangupCode;
}
/** An offer or answer of the perfect-negotiation exchange. */
export interface DescriptionSignal extends SignalBase {
  kind: "description";
  description: SessionDescription;
}
/** A trickled ICE candidate; `null` marks the end of candidates. */
export interface CandidateSignal extends SignalBase {
  kind: "candidate";
  candidate: IceCandidate | null;
}

/** An RTC signal, discriminated on `kind`. */
export type Signal =
  | CallSignal
  | AcceptSignal
  | RejectSignal
  | HangupSignal
  | DescriptionSignal
  | CandidateSignal;

const SIGNAL_FIELDS: Record<Signal["kind"], readonly string[]> = {
  call: ["media", "channels"],
  accept: [],
  reject: ["reason"],
  hangup: ["reason", "code"],
  description: ["description"],
  candidate: ["candidate"],
};

const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;
const MAX_REASON_LENGTH = 256;

/**
 * Checks an RTC signal as the server receives it.
 *
 * @throws {TypeError} When a field has the wrong type or value.
 * @throws {RangeError} When an SDP is over {@linkcode LIMITS.maxSdpBytes}.
 *
 * @example
 * ```ts
 * import { checkSignal } from "./mod.ts";
 * checkSignal({ kind: "hangup", call: "c1" }); // ok
 * ```
 */
export function checkSignal(value: unknown, limits: Limits = LIMITS): asserts value is Signal {
  const [fields, kind] = tagged(
    value,
    { object: "signal", tag: "signal.kind" },
    "kind",
    SIGNAL_KINDS,
    TypeError,
  );
  const signal = fields;
  onlyFields(
    signal,
    ["kind", "call", ...SIGNAL_FIELDS[kind]],
    `a '${kind}' signal`,
    "signal.",
  );
  const call = signal.call;
  if (
    typeof call !== "string" || call.length > limits.maxTokenLength ||
    !TOKEN_PATTERN.test(call)
  ) {
    reject(
      TypeError,
      "signal.call",
      `must be 1–${limits.maxTokenLength} characters of letters, digits, '-', '_'`,
      call,
    );
  }
  optionalString(signal, "reason", MAX_REASON_LENGTH, "signal.");
  if (
    kind === "hangup" && signal.code !== undefined &&
    !HANGUP_CODES.includes(signal.code as HangupCode)
  ) {
    reject(TypeError, "signal.code", `must be one of ${HANGUP_CODES.join(", ")}`, signal.code);
  }
  if (kind === "call" && signal.media !== undefined) {
    const media = signal.media;
    if (
      !isObject(media) || typeof media.audio !== "boolean" ||
      typeof media.video !== "boolean" || Object.keys(media).length !== 2
    ) {
      reject(
        TypeError,
        "signal.media",
        "must be { audio: boolean, video: boolean }",
        media,
      );
    }
  }
  if (kind === "call" && signal.channels !== undefined) {
    checkChannels(signal.channels);
  }
  if (kind === "description") {
    const description = signal.description;
    if (!isObject(description)) {
      reject(TypeError, "signal.description", "must be an object", description);
    }
    onlyFields(description, ["type", "sdp"], "a description", "signal.description.");
    if (!SDP_TYPES.includes(description.type as typeof SDP_TYPES[number])) {
      reject(
        TypeError,
        "signal.description.type",
        `must be one of ${SDP_TYPES.join(", ")}`,
        description.type,
      );
    }
    if (description.sdp !== undefined) {
      if (typeof description.sdp !== "string") {
        reject(
          TypeError,
          "signal.description.sdp",
          "must be a string",
          description.sdp,
        );
      }
      if (exceedsBytes(description.sdp, limits.maxSdpBytes)) {
        reject(
          RangeError,
          "signal.description.sdp",
          `must be at most ${limits.maxSdpBytes} bytes`,
          description.sdp,
        );
      }
    }
  }
  if (kind === "candidate" && signal.candidate !== null) {
    const candidate = signal.candidate;
    if (!isObject(candidate)) {
      reject(
        TypeError,
        "signal.candidate",
        "must be an object or null",
        candidate,
      );
    }
    onlyFields(
      candidate,
      ["candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"],
      "a candidate",
      "signal.candidate.",
    );
    if (
      typeof candidate.candidate !== "string" ||
      exceedsBytes(candidate.candidate, limits.maxCandidateBytes)
    ) {
      reject(
        TypeError,
        "signal.candidate.candidate",
        `must be a string of at most ${limits.maxCandidateBytes} bytes`,
        candidate.candidate,
      );
    }
    for (const field of ["sdpMid", "usernameFragment"]) {
      if (candidate[field] !== null) {
        optionalString(candidate, field, 256, "signal.candidate.");
      }
    }
    const index = candidate.sdpMLineIndex;
    if (
      index !== undefined && index !== null &&
      (!Number.isSafeInteger(index) || (index as number) < 0 ||
        (index as number) > 1023)
    ) {
      reject(
        TypeError,
        "signal.candidate.sdpMLineIndex",
        "must be an integer from 0 to 1023 or null",
        index,
      );
    }
  }
}

const MAX_LABEL_LENGTH = 256;

function checkChannels(channels: unknown): void {
  if (!Array.isArray(channels) || channels.length > MAX_CHANNELS) {
    reject(
      TypeError,
      "signal.channels",
      `must be an array of at most ${MAX_CHANNELS} channels`,
      channels,
    );
  }
  const ids = new Set<unknown>();
  channels.forEach((channel: unknown, i) => {
    const at = `signal.channels[${i}].`;
    if (!isObject(channel)) reject(TypeError, at.slice(0, -1), "must be an object", channel);
    onlyFields(
      channel,
      ["label", "id", "ordered", "maxPacketLifeTime", "maxRetransmits", "protocol"],
      "a channel",
      at,
    );
    if (typeof channel.label !== "string") {
      reject(TypeError, at + "label", "must be a string", channel.label);
    }
    optionalString(channel, "label", MAX_LABEL_LENGTH, at);
    optionalString(channel, "protocol", MAX_LABEL_LENGTH, at);
    if (
      !Number.isInteger(channel.id) || (channel.id as number) < 0 ||
      (channel.id as number) > 1023 || ids.has(channel.id)
    ) {
      reject(TypeError, at + "id", "must be a unique integer from 0 to 1023", channel.id);
    }
    ids.add(channel.id);
    if (channel.ordered !== undefined && typeof channel.ordered !== "boolean") {
      reject(TypeError, at + "ordered", "must be a boolean", channel.ordered);
    }
    for (const field of ["maxPacketLifeTime", "maxRetransmits"]) {
      const value = channel[field];
      if (
        value !== undefined &&
        !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535)
      ) {
        reject(TypeError, at + field, "must be an integer from 0 to 65535", value);
      }
    }
    if (channel.maxPacketLifeTime !== undefined && channel.maxRetransmits !== undefined) {
      reject(
        TypeError,
        at + "maxRetransmits",
        "cannot be set with maxPacketLifeTime",
        channel.maxRetransmits,
      );
    }
  });
}
