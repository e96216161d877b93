/**
 * The calls of a room page: placing and answering calls (ring, accept,
 * reject, cancel), their media and data channels, how each ended, and the
 * in-call chat. The group call (`group_call.ts`) places its calls through
 * these. Everything it learns goes into the signals of `room_state.ts`.
 *
 * @module
 */
import { signal } from "@preact/signals";
import type {
  RTCCallback,
  RtcClosedEvent,
  RTCConnection,
  RtcIncomingEvent,
} from "../sdk/rtc/types.ts";
import { FILE_CHANNEL, fileReceiver } from "./file_transfer.ts";
import { ensureLocalMedia, releaseLocalMedia } from "./local_media.ts";
import {
  callChat,
  calls,
  type CallView,
  chatLine,
  inGroupCall,
  me,
  notice,
  outcome,
  outgoing,
  people,
  ringing,
  session,
  transfers,
} from "./room_state.ts";

/** The data channel of the in-call chat (an SDK preset). */
export const CHAT_CHANNEL = "text-chat";
const CHANNELS = [CHAT_CHANNEL, FILE_CHANNEL] as const;
/** The longest chat message, in characters. */
export const MAX_CHAT_LENGTH = 2_000;
/** The most a group call member sends each other member, in bit/s. */
const GROUP_VIDEO_BITRATE = 400_000;

const receivers = new Map<string, ReturnType<typeof fileReceiver>>();

function nameOf(cid: string): string {
  return people.value.find((p) => p.cid === cid)?.name ??
    calls.value.find((v) => v.cid === cid)?.name.value ?? "Someone";
}

function viewOf(cid: string): CallView | undefined {
  return calls.value.find((v) => v.cid === cid);
}

function addView(cid: string, name: string, group: boolean): CallView {
  const view: CallView = {
    cid,
    name: signal(name),
    state: signal("new"),
    stream: signal(null),
    video: signal(false),
    conn: null,
    group,
  };
  calls.value = [...calls.value.filter((v) => v.cid !== cid), view];
  return view;
}

function dropView(view: CallView): void {
  calls.value = calls.value.filter((v) => v !== view);
  receivers.get(view.cid)?.close();
  receivers.delete(view.cid);
  if (calls.value.length === 0 && !inGroupCall.value && !outgoing.value) {
    releaseLocalMedia();
    callChat.value = [];
  }
}

function events(view: CallView): RTCCallback {
  return (e) => {
    if (e.type === "track" && e.track) {
      const stream = e.streams?.[0] ?? view.stream.value ?? new MediaStream();
      if (!stream.getTracks().includes(e.track)) stream.addTrack(e.track);
      view.stream.value = stream;
      if (e.track.kind === "video") view.video.value = true;
    } else if (e.type === "connectionstatechange" && e.state) {
      view.state.value = e.state;
    } else if (e.type === "open" && e.label === FILE_CHANNEL) {
      e.target.binaryType = "arraybuffer";
    } else if (e.type === "message" && e.label === CHAT_CHANNEL) {
      const text = chatText(e.data);
      if (text) callChat.value = [...callChat.value, chatLine(view.name.value, text, false)];
    } else if (e.type === "message" && e.label === FILE_CHANNEL) {
      let receiver = receivers.get(view.cid);
      if (!receiver) receivers.set(view.cid, receiver = fileReceiver(view));
      receiver.receive(e.data);
    }
  };
}

function chatText(data: unknown): string {
  try {
    const text = (JSON.parse(String(data)) as { text?: unknown })?.text;
    return typeof text === "string" ? text.slice(0, MAX_CHAT_LENGTH) : "";
  } catch {
    return "";
  }
}

/**
 * A mesh sends one video per member: in the group call each is sent at half
 * the camera's resolution and a capped bitrate, to spare uplinks and CPUs.
 */
function spareMesh(view: CallView): void {
  if (!view.group || !view.conn) return;
  for (const sender of view.conn.target.getSenders()) {
    if (sender.track?.kind !== "video") continue;
    const parameters = sender.getParameters();
    if (!parameters.encodings?.length) continue;
    for (const encoding of parameters.encodings) {
      encoding.maxBitrate = GROUP_VIDEO_BITRATE;
      encoding.scaleResolutionDownBy = 2;
    }
    sender.setParameters(parameters).catch(() => {/* the browser keeps its defaults */});
  }
}

function established(view: CallView, conn: RTCConnection): void {
  view.conn = conn;
  spareMesh(view);
}

function failed(what: string, error: unknown): void {
  const reason = (error as Error)?.message ?? String(error);
  notice.value = { tone: "error", text: `${what}: ${reason}` };
}

/** The calls this page is placing (against double clicks and crossing announcements). */
const dialing = new Set<string>();

/** Calls `cid`; a one-to-one call shows in the CallDialog while it rings. */
export async function dial(cid: string, name: string, group: boolean): Promise<void> {
  const client = session.client;
  if (!client || viewOf(cid) || dialing.has(cid)) return;
  dialing.add(cid);
  let cancelled = false;
  if (!group) outgoing.value = { cid, name, cancel: () => void (cancelled = true) };
  try {
    const media = await ensureLocalMedia(true);
    if (cancelled) return;
    const view = addView(cid, name, group);
    const connector = await client.connectRTC(
      { cid, media: media ?? false, channels: [...CHANNELS] },
      events(view),
    );
    if (!group) outgoing.value = { cid, name, cancel: () => void connector.hangup() };
    const conn = await connector.connection;
    if (outgoing.value?.cid === cid) outgoing.value = null;
    if (conn) established(view, conn);
    else dropView(view);
  } catch (error) {
    if (outgoing.value?.cid === cid) outgoing.value = null;
    const view = viewOf(cid);
    if (view) dropView(view);
    failed(`The call to ${name} could not start`, error);
  } finally {
    dialing.delete(cid);
    if (cancelled && outgoing.value?.cid === cid) outgoing.value = null;
    if (cancelled && calls.value.length === 0 && !inGroupCall.value) releaseLocalMedia();
  }
}

/** Calls `cid` one-to-one; the CallDialog shows it ringing. */
export function callPerson(cid: string, name: string): Promise<void> {
  outcome.value = null;
  return dial(cid, name, false);
}

/** Accepts `call`, with the camera unless `audioOnly`. */
export async function accept(call: RtcIncomingEvent, audioOnly = false, group = false) {
  ringing.value = ringing.value.filter((r) => r !== call);
  const media = await ensureLocalMedia(!audioOnly);
  const sent = media && audioOnly ? new MediaStream(media.getAudioTracks()) : media;
  const view = addView(call.sender_cid, call.name || nameOf(call.sender_cid), group);
  try {
    const conn = await call.connectRTC({ media: sent ?? false }, events(view));
    if (conn) established(view, conn);
    else dropView(view);
  } catch (error) {
    dropView(view);
    failed(`The call from ${view.name.value} could not start`, error);
  }
}

/** Rejects `call`. */
export function reject(call: RtcIncomingEvent): void {
  ringing.value = ringing.value.filter((r) => r !== call);
  void call.hangup();
}

/** The SDK saw someone ringing this page (and the group call did not claim it). */
export function onIncoming(call: RtcIncomingEvent): void {
  ringing.value = [...ringing.value, call];
}

/**
 * What a call's end means for the person, from the SDK's reason and what
 * the call was doing; null when there is nothing to say (they ended it).
 */
function describeEnd(
  message: string,
  name: string,
  phase: "ringing-in" | "ringing-out" | "active",
): string | null {
  if (/^You /.test(message)) return null;
  // The other side's own reason, when it sent one: "… hung up. (reason)".
  const theirs = /\((.*)\)$/.exec(message)?.[1] ?? "";
  if (phase === "ringing-in") return `You missed a call from ${name}.`;
  if (/not connected/i.test(message)) return `${name} is no longer in the room.`;
  if (phase === "ringing-out") {
    if (/rejected/i.test(message)) return `${name} declined the call.`;
    if (/No answer/i.test(message)) return `${name} did not answer. Try again later.`;
  } else if (/hung up/i.test(message) && (!theirs || /^You /.test(theirs))) {
    return `${name} hung up.`;
  }
  return `The connection to ${name} failed. Check your network and call again.`;
}

/**
 * What the room says when a call found no network path (`ICE_FAILED`): the
 * README section it names explains STUN and TURN to the operator.
 */
function noPathText(name: string): string {
  return `The call ended: your network and ${name}'s could not reach each other. ` +
    "This happens behind some firewalls and mobile networks: the operator of this Parley " +
    "can add a TURN relay (see “Calls across networks: STUN and TURN” in Parley's README).";
}

/** The SDK reports that the other side ended a call, or that it ended by itself. */
export function onClosed(event: RtcClosedEvent): void {
  const cid = event.sender_cid;
  const reason = event.reason;
  const name = nameOf(cid);
  const ring = ringing.value.find((r) => r.sender_cid === cid);
  const calling = outgoing.value?.cid === cid;
  if (ring) ringing.value = ringing.value.filter((r) => r !== ring);
  if (calling) outgoing.value = null;
  if (event.code === "ICE_FAILED") {
    const failed = viewOf(cid);
    if (failed) dropView(failed);
    notice.value = { tone: "error", text: noPathText(ring?.name || name) };
    return;
  }
  if (ring) outcome.value = describeEnd(reason, ring.name || name, "ringing-in");
  else if (calling) outcome.value = describeEnd(reason, name, "ringing-out");
  const view = viewOf(cid);
  if (!view) return;
  dropView(view);
  if (ring || calling) return;
  if (!(view.group && /hung up/.test(reason))) {
    // (Someone leaving the group call is no news: their tile just goes.)
    const text = describeEnd(reason, name, "active");
    if (text) notice.value = { tone: /hung up/.test(text) ? "info" : "error", text };
  }
}

/** Someone left the room: their calls end (this side's own hang-up: no rtc:closed follows). */
export function onPersonLeft(cid: string): void {
  const view = viewOf(cid);
  if (!view) return;
  void session.client?.closeRTC({ cid });
  dropView(view);
  notice.value = { tone: "info", text: `${view.name.value} left the room, so the call ended.` };
}

/** Ends every call of this page (the group call's `hangUp` also leaves it). */
export async function endCalls(): Promise<void> {
  await session.client?.closeRTC({ close_all: true });
  for (const view of calls.value) dropView(view);
  releaseLocalMedia();
  callChat.value = [];
  transfers.value = [];
}

/** Sends `text` to everyone in the call over the chat channel. */
export function sendCallChat(text: string): void {
  const trimmed = text.trim();
  if (!trimmed) return;
  const payload = JSON.stringify({ text: trimmed.slice(0, MAX_CHAT_LENGTH) });
  for (const view of calls.value) {
    const channel = view.conn?.channels[CHAT_CHANNEL];
    if (channel?.readyState === "open") channel.send(payload);
  }
  callChat.value = [...callChat.value, chatLine(me.value?.name ?? "You", trimmed, true)];
}

/** Forgets every call of a page that leaves the room. */
export function resetCalls(): void {
  dialing.clear();
}
