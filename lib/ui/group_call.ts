/**
 * The room's group call, a mesh: joining announces it to the room with a
 * group message, members answer "here", and of every pair of members the
 * one with the smaller cid calls the other, so each pair connects once.
 * Members answer each other's rings without asking.
 *
 * @module
 */
import type { RtcIncomingEvent } from "../sdk/rtc/types.ts";
import { accept, dial, endCalls } from "./calls.ts";
import { ensureLocalMedia } from "./local_media.ts";
import { inGroupCall, me, notice, outcome, session } from "./room_state.ts";

/** The group message that carries the group call's announcements. */
export const GROUP_CALL_KIND = "group-call";
/** How long a ring from someone not yet known to be a member waits for their announcement. */
const RING_GRACE_MS = 3_000;

/** The members this page knows of: cid → name. */
const members = new Map<string, string>();
/** Rings that arrived before their caller's announcement. */
const early = new Map<string, RtcIncomingEvent>();

function announce(action: "join" | "here" | "leave"): Promise<unknown> {
  return session.client?.postRealtime({ kind: GROUP_CALL_KIND, action }) ?? Promise.resolve();
}

/**
 * Answers `call` when it comes from a member while this page is in the
 * group call; returns false when the call should ring as usual.
 */
export function claimRing(call: RtcIncomingEvent, ringAsUsual: (call: RtcIncomingEvent) => void) {
  const cid = call.sender_cid;
  if (!inGroupCall.value) return false;
  if (members.has(cid)) {
    void accept(call, false, true);
    return true;
  }
  // The ring may overtake the caller's announcement: wait a moment for it.
  early.set(cid, call);
  setTimeout(() => {
    if (early.get(cid) !== call) return;
    early.delete(cid);
    ringAsUsual(call);
  }, RING_GRACE_MS);
  return true;
}

/** A group-call announcement arrived from `cid`. */
export function onGroupMessage(action: unknown, cid: string, name: string): void {
  if (cid === me.value?.cid) return;
  if (action === "leave") return void members.delete(cid);
  if (action !== "join" && action !== "here") return;
  members.set(cid, name);
  if (!inGroupCall.value) return;
  if (action === "join") void announce("here").catch(() => {});
  const ring = early.get(cid);
  if (ring) {
    early.delete(cid);
    return void accept(ring, false, true);
  }
  if ((me.value?.cid ?? "") < cid) void dial(cid, name, true);
}

/** A ring ended (or its caller left) before it was answered. */
export function forget(cid: string): void {
  early.delete(cid);
}

/** Someone left the room. */
export function onMemberLeft(cid: string): void {
  members.delete(cid);
  early.delete(cid);
}

/** Joins the room's group call: opens the camera and announces it. */
export async function joinGroupCall(): Promise<void> {
  if (!session.client || inGroupCall.value) return;
  outcome.value = null;
  await ensureLocalMedia(true);
  inGroupCall.value = true;
  try {
    await announce("join");
  } catch (error) {
    inGroupCall.value = false;
    notice.value = {
      tone: "error",
      text: `Could not join the group call: ${(error as Error)?.message ?? error}`,
    };
  }
}

/** Ends every call of this page and leaves the group call. */
export async function hangUp(): Promise<void> {
  const wasIn = inGroupCall.value;
  inGroupCall.value = false;
  early.clear();
  if (wasIn) await announce("leave").catch(() => {});
  await endCalls();
}

/** Forgets the group call of a page that leaves the room. */
export function resetGroupCall(): void {
  members.clear();
  early.clear();
  inGroupCall.value = false;
}
