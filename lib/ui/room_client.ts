/**
 * The realtime side of a room page: one {@linkcode RealtimeClient} that
 * connects, joins the room, and turns the client's events into the signals
 * of `room_state.ts` (people, chat, connection state) and into the call
 * handlers of `calls.ts`.
 *
 * @module
 */
import { RealtimeClient } from "../sdk/client.ts";
import { RealtimeError } from "../sdk/errors.ts";
import { ConnectionState, type RealtimeCallbackEvent, RealtimeEvent } from "../sdk/events.ts";
import { MAX_CHAT_LENGTH, onClosed, onIncoming, onPersonLeft, resetCalls } from "./calls.ts";
import {
  claimRing,
  forget,
  GROUP_CALL_KIND,
  hangUp,
  onGroupMessage,
  onMemberLeft,
  resetGroupCall,
} from "./group_call.ts";
import { forgetInviteToken, takeInviteToken } from "./invite.ts";
import { rememberName } from "./names.ts";
import {
  calls,
  chatLine,
  connectionState,
  me,
  notice,
  people,
  type Person,
  privateRoom,
  roomChat,
  session,
} from "./room_state.ts";

/** The longest wait between two tries to reach an unreachable server. */
const MAX_RETRY_MS = 15_000;

const UNREACHABLE =
  "Cannot reach the Parley server. Check your internet connection; Parley keeps trying.";

async function refreshPeople(client: RealtimeClient): Promise<void> {
  const page = await client.getRealtimeUsers({}, { limit: 1000 });
  people.value = page.list;
}

function upsert(person: Person): void {
  const others = people.value.filter((p) => p.cid !== person.cid);
  const at = people.value.findIndex((p) => p.cid === person.cid);
  people.value = at < 0 ? [...others, person] : people.value.map((p, i) => i === at ? person : p);
}

function onEvent(client: RealtimeClient, rt: RealtimeCallbackEvent): void {
  switch (rt.type) {
    case "success":
      if (rt.reconnected && !rt.resumed) {
        if (notice.value?.text === UNREACHABLE) notice.value = null;
        void refreshPeople(client).catch(() => {});
      }
      return;
    case "error":
      // A dropped socket is the reconnect's business (and its notice's), not an error to show.
      if (rt.code === "NOT_CONNECTED") return;
      notice.value = { tone: "error", text: `Something went wrong: ${rt.message}` };
      return;
    case "message": {
      const message = rt.message as { kind?: unknown; text?: unknown; action?: unknown };
      if (message?.kind === "chat" && typeof message.text === "string") {
        const mine = rt.sender_cid === me.value?.cid;
        const line = chatLine(rt.name, message.text.slice(0, MAX_CHAT_LENGTH), mine);
        roomChat.value = [...roomChat.value, line];
      } else if (message?.kind === GROUP_CALL_KIND) {
        onGroupMessage(message.action, rt.sender_cid, rt.name);
      }
      return;
    }
    case "notice": {
      const person = { cid: rt.sender_cid, user_id: rt.sender, name: rt.name };
      if (rt.code === "USER_JOINED") upsert(person);
      else if (rt.code === "USER_RENAMED") {
        upsert(person);
        const view = calls.value.find((v) => v.cid === person.cid);
        if (view) view.name.value = person.name;
        if (person.cid === me.value?.cid) me.value = person;
      } else {
        people.value = people.value.filter((p) => p.cid !== person.cid);
        onMemberLeft(person.cid);
        onPersonLeft(person.cid);
      }
      return;
    }
    case "rtc:incoming":
      if (!claimRing(rt, onIncoming)) onIncoming(rt);
      return;
    case "rtc:closed":
      forget(rt.sender_cid);
      return onClosed(rt);
  }
}

/**
 * Connects as `name` and joins `room` (with the invite's token, when the
 * page has one); retries with backoff while the server cannot be reached,
 * and says in words when the room is private and needs an invite link.
 * Returns the cleanup: hang up, leave, disconnect.
 *
 * @example
 * ```ts ignore
 * useEffect(() => enterRoom("brave-otter-42", "Ada"), []);
 * ```
 */
export function enterRoom(room: string, name: string): () => void {
  const client = new RealtimeClient({ name, token: takeInviteToken(room) });
  session.client = client;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const offState = client.on(RealtimeEvent.ConnectionStateChanged, (state) => {
    connectionState.value = state;
  });
  const start = async (attempt: number) => {
    try {
      await client.connectRealtime((rt) => onEvent(client, rt));
      await client.joinRealtime({ group: room });
      if (stopped) return;
      me.value = client.user;
      await refreshPeople(client);
      if (notice.value?.text === UNREACHABLE) notice.value = null;
    } catch (error) {
      if (stopped) return;
      if (error instanceof RealtimeError && error.code === "ROOM_FULL") {
        notice.value = { tone: "error", text: "This room is full. Try another room or later." };
        return;
      }
      if (error instanceof RealtimeError && error.code === "UNAUTHORIZED") {
        // Retrying cannot help: only an invite link (a token for this room) can.
        forgetInviteToken(room);
        privateRoom.value = true; // the lobby says so, in words
        void client.closeRealtime();
        return;
      }
      notice.value = { tone: "error", text: UNREACHABLE };
      const delay = Math.min(MAX_RETRY_MS, 1_000 * 2 ** attempt);
      retry = setTimeout(() => void start(attempt + 1), delay);
    }
  };
  // Closing the tab hangs up at once, rather than leaving the others to time out.
  const onPageHide = () => void client.closeRealtime();
  addEventListener("pagehide", onPageHide);
  void start(0);
  return () => {
    stopped = true;
    removeEventListener("pagehide", onPageHide);
    clearTimeout(retry);
    void hangUp().finally(() => client.closeRealtime());
    offState();
    resetGroupCall();
    resetCalls();
    session.client = null;
    connectionState.value = ConnectionState.Disconnected;
    me.value = null;
    people.value = [];
    privateRoom.value = false;
  };
}

/** Changes this page's display name; the room sees it at once. */
export async function rename(name: string): Promise<void> {
  const client = session.client;
  const trimmed = name.trim();
  if (!client || !trimmed || trimmed === me.value?.name) return;
  try {
    const saved = await client.setName(trimmed);
    rememberName(saved);
    if (me.value) me.value = { ...me.value, name: saved };
  } catch (error) {
    notice.value = {
      tone: "error",
      text: `Your name was not changed: ${(error as Error).message}`,
    };
  }
}

/** Sends `text` to the room's chat. */
export async function postChat(text: string): Promise<boolean> {
  const client = session.client;
  const trimmed = text.trim().slice(0, MAX_CHAT_LENGTH);
  if (!client || !trimmed) return false;
  try {
    await client.postRealtime({ kind: "chat", text: trimmed });
    return true;
  } catch (error) {
    notice.value = {
      tone: "error",
      text: `Your message was not sent: ${(error as Error).message}`,
    };
    return false;
  }
}
