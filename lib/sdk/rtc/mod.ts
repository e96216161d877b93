/**
 * Calls: `connectRTC`, `closeRTC`, `rtc:incoming` and `rtc:closed`, over
 * Parley's signal relay, with perfect negotiation, trickle ICE and ICE
 * restarts. Works in browsers, and elsewhere with an injected
 * `RTCPeerConnection`.
 *
 * @example
 * ```ts ignore
 * const { connection } = await skapi.connectRTC({ cid, media: true }, (e) => {
 *   if (e.type === "track") video.srcObject = e.streams[0];
 * });
 * const rtc = await connection; // null when rejected, cancelled or timed out
 * rtc?.channels.default.send("hello");
 * ```
 *
 * @module
 */
export { Calls, type CallsEvents, type CallsOptions } from "./calls.ts";
export { CHANNEL_PRESETS, channelSpecs } from "./channels.ts";
export { iceUrlFor, resolveIce } from "./ice.ts";
export { ICE_RESTART_DEFAULTS, IceHealth } from "./restart.ts";
export * from "./types.ts";
