/**
 * Data channels of a call. Both sides create the same channels with the same
 * ids (`negotiated: true`): the caller declares them in its ring, so every
 * label is in `channels` on both sides before the connection resolves.
 *
 * @module
 */
import type { ChannelSpec } from "../../protocol/mod.ts";
import { MAX_CHANNELS } from "../../protocol/mod.ts";
import { RealtimeError } from "../errors.ts";
import { eventBase } from "./peer_events.ts";
import type { ChannelEvent, ChannelOption, ChannelPreset, RTCCallback } from "./types.ts";

/**
 * The presets: reliable ones never drop, the lossy ones trade reliability
 * for latency. As in Skapi, each preset's channel has its name as `protocol`.
 *
 * @example
 * ```ts
 * import { CHANNEL_PRESETS } from "./channels.ts";
 * console.log(CHANNEL_PRESETS.gaming.maxPacketLifeTime); // 100
 * ```
 */
export const CHANNEL_PRESETS: Readonly<Record<ChannelPreset, Readonly<RTCDataChannelInit>>> = {
  /** Ordered and reliable. */
  "text-chat": { ordered: true, protocol: "text-chat" },
  /** Ordered and reliable: a file must arrive whole. */
  "file-transfer": { ordered: true, protocol: "file-transfer" },
  /** Unordered; a packet older than 100 ms is not worth resending. */
  "gaming": { ordered: false, maxPacketLifeTime: 100, protocol: "gaming" },
  /** Ordered, few retransmits. */
  "video-chat": { ordered: true, maxRetransmits: 3, protocol: "video-chat" },
  /** Ordered, fewer retransmits. */
  "voice-chat": { ordered: true, maxRetransmits: 2, protocol: "voice-chat" },
};

/** The channel a call opens when the app names none. */
export const DEFAULT_CHANNEL: ChannelSpec = {
  label: "default",
  id: 0,
  ordered: true,
  protocol: "default",
};

/**
 * Turns `connectRTC`'s `channels` into specs with ids, as the ring carries them.
 *
 * @throws {RealtimeError} `INVALID_PARAMETER` for an unknown preset, a duplicate label or too many channels
 * @example
 * ```ts
 * import { channelSpecs } from "./channels.ts";
 * channelSpecs(["text-chat", { label: "moves", ordered: false }]);
 * // [{ label: "text-chat", id: 0, ordered: true, protocol: "text-chat" },
 * //  { label: "moves", id: 1, ordered: false }]
 * ```
 */
export function channelSpecs(channels: ChannelOption[] | undefined): ChannelSpec[] {
  if (channels === undefined || channels === null) return [{ ...DEFAULT_CHANNEL }];
  if (!Array.isArray(channels) || channels.length > MAX_CHANNELS) {
    throw RealtimeError.invalidParameter(
      `Cannot call as 'channels' must be an array of at most ${MAX_CHANNELS} presets or RTCDataChannelInit`,
    );
  }
  const labels = new Set<string>();
  return channels.map((option, id) => {
    let init: RTCDataChannelInit & { label?: string };
    let label: string;
    if (typeof option === "string") {
      if (!(option in CHANNEL_PRESETS)) {
        throw RealtimeError.invalidParameter(
          `Cannot call as channel preset must be one of ${
            Object.keys(CHANNEL_PRESETS).join(", ")
          }: current value is ${JSON.stringify(option)}`,
        );
      }
      init = CHANNEL_PRESETS[option];
      label = option;
    } else if (typeof option === "object" && option !== null) {
      init = option;
      // As in Skapi: an init without a label is named by its protocol, else "default".
      label = option.label ?? (option.protocol || "default");
    } else {
      throw RealtimeError.invalidParameter(
        `Cannot call as channels[${id}] must be a preset name or an RTCDataChannelInit`,
      );
    }
    if (labels.has(label)) {
      throw RealtimeError.invalidParameter(
        `Cannot call as the data channel label "${label}" is used twice`,
      );
    }
    labels.add(label);
    const spec: ChannelSpec = { label, id, ordered: init.ordered ?? true };
    if (init.maxPacketLifeTime != null) spec.maxPacketLifeTime = init.maxPacketLifeTime;
    else if (init.maxRetransmits != null) spec.maxRetransmits = init.maxRetransmits;
    if (init.protocol) spec.protocol = init.protocol;
    return spec;
  });
}

const CHANNEL_EVENTS = ["open", "message", "close", "bufferedamountlow", "error"] as const;

/**
 * Creates the negotiated channels on `pc` and forwards their events to `emit`.
 * Returns the channels by label, a function that stops forwarding, and one
 * that tells `close` for each channel that has not told it yet (the call
 * ended: the browser's own close events would come after the last event).
 *
 * @example
 * ```ts ignore
 * const { channels, stop } = openChannels(pc, [{ label: "default", id: 0 }], console.log);
 * channels.default.send("hi");
 * ```
 */
export function openChannels(
  pc: RTCPeerConnection,
  specs: ChannelSpec[],
  emit: RTCCallback,
): { channels: Record<string, RTCDataChannel>; stop: () => void; closeAll: () => void } {
  const channels: Record<string, RTCDataChannel> = {};
  const offs: (() => void)[] = [];
  const told = new Set<RTCDataChannel>();
  for (const { label, ...init } of specs) {
    const channel = pc.createDataChannel(label, { ...init, negotiated: true });
    channels[label] = channel;
    for (const type of CHANNEL_EVENTS) {
      const listener = (event: Event) => {
        if (type === "close") told.add(channel);
        emit(channelEvent(type, channel, event));
      };
      channel.addEventListener(type, listener);
      offs.push(() => channel.removeEventListener(type, listener));
    }
  }
  const stop = () => offs.splice(0).forEach((off) => off());
  const closeAll = () => {
    stop();
    for (const channel of Object.values(channels)) {
      if (told.has(channel)) continue;
      told.add(channel);
      emit(channelEvent("close", channel, undefined));
    }
  };
  return { channels, stop, closeAll };
}

/** A data channel's event with Skapi's fields (plus `label` and `readyState` on each). */
function channelEvent(
  type: typeof CHANNEL_EVENTS[number],
  channel: RTCDataChannel,
  // deno-lint-ignore no-explicit-any
  event: any,
): ChannelEvent {
  const base = {
    ...eventBase(type, channel, event),
    label: channel.label,
    readyState: channel.readyState,
  };
  switch (type) {
    case "open":
      return {
        ...base,
        type,
        id: channel.id,
        ordered: channel.ordered,
        maxRetransmits: channel.maxRetransmits,
        maxPacketLifeTime: channel.maxPacketLifeTime,
        protocol: channel.protocol,
      };
    case "message":
      return {
        ...base,
        type,
        data: event?.data,
        lastEventId: event?.lastEventId ?? "",
        origin: event?.origin ?? "",
        bufferedAmount: channel.bufferedAmount,
      };
    case "close":
      return { ...base, type, id: channel.id };
    case "bufferedamountlow":
      return {
        ...base,
        type,
        bufferedAmount: channel.bufferedAmount,
        bufferedAmountLowThreshold: channel.bufferedAmountLowThreshold,
      };
    case "error": {
      const error = event?.error;
      const text = String(error?.message ?? error ?? "data channel error");
      return { ...base, type, error: text, message: text, errorCode: error?.errorDetail ?? null };
    }
  }
}
