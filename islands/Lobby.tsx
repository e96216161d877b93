import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ChatLog } from "../components/ChatLog.tsx";
import { LIMITS } from "../lib/protocol/limits.ts";
import { ConnectionState } from "../lib/sdk/events.ts";
import { callPerson } from "../lib/ui/calls.ts";
import { joinGroupCall } from "../lib/ui/group_call.ts";
import { PRIVATE_ROOM_TEXT } from "../lib/ui/invite.ts";
import { rememberedName, rememberName } from "../lib/ui/names.ts";
import { enterRoom, postChat, rename } from "../lib/ui/room_client.ts";
import {
  calls,
  connectionState,
  inCall,
  inGroupCall,
  me,
  notice,
  people,
  privateRoom,
  roomChat,
} from "../lib/ui/room_state.ts";

/** Props of {@linkcode Lobby}. */
export interface LobbyProps {
  /** The room's name (a valid group name). */
  room: string;
}

/**
 * The room's lobby: asks a first-time visitor's name, connects and joins
 * the room (the effect's cleanup leaves it), and shows who is here, your own
 * name, calls to start, the group call, the room chat and the room's link.
 *
 * @example Usage
 * ```tsx
 * import Lobby from "./Lobby.tsx";
 * const lobby = <Lobby room="brave-otter-42" />;
 * ```
 */
export default function Lobby({ room }: LobbyProps) {
  /** The name to enter with; "" while asking, null before the page knows. */
  const entered = useSignal<string | null>(null);
  const draft = useSignal("");
  const copied = useSignal(false);
  const online = useComputed(() => connectionState.value === ConnectionState.Connected);
  const nameField = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const name = rememberedName();
    entered.value = name;
    draft.value = name;
  }, []);

  useEffect(() => {
    if (!entered.value) return;
    return enterRoom(room, entered.value);
  }, [entered.value !== null && entered.value !== ""]);

  // Asked for a name first: the field has the focus, so typing and Enter is all it takes.
  useEffect(() => nameField.current?.focus(), [entered.value === ""]);

  if (entered.value === null) return <p class="muted lobby-loading">Opening the room…</p>;

  if (privateRoom.value) {
    return (
      <section class="card private-room" role="alert" aria-labelledby="private-title">
        <h2 id="private-title">This room is private</h2>
        <p>{PRIVATE_ROOM_TEXT}</p>
      </section>
    );
  }

  if (entered.value === "") {
    const onEnter = (event: SubmitEvent) => {
      event.preventDefault();
      const name = draft.value.trim();
      if (!name) return nameField.current?.focus();
      rememberName(name);
      entered.value = name;
    };
    return (
      <form class="card join" onSubmit={onEnter}>
        <h2>Who are you?</h2>
        <p class="muted">The others in the room see this name.</p>
        <label for="name-first">Your name</label>
        <input
          id="name-first"
          ref={nameField}
          autocomplete="nickname"
          required
          maxLength={LIMITS.maxDisplayNameLength}
          value={draft}
          onInput={(e) => draft.value = e.currentTarget.value}
        />
        <div class="actions">
          <button type="submit">Enter room</button>
        </div>
      </form>
    );
  }

  const onRename = (event: SubmitEvent) => {
    event.preventDefault();
    void rename(draft.value);
  };
  const onCopy = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      copied.value = true;
      setTimeout(() => copied.value = false, 2_500);
    } catch {
      notice.value = { tone: "info", text: `Copy this link to invite others: ${location.href}` };
    }
  };
  const others = people.value.filter((p) => p.cid !== me.value?.cid);
  const busy = new Set(calls.value.map((v) => v.cid));

  return (
    <div class="lobby">
      <section class="card people" aria-labelledby="people-title">
        <div class="row">
          <h2 id="people-title">
            Here now <span class="count">({people.value.length})</span>
          </h2>
          <button type="button" class="secondary" onClick={onCopy}>Copy link</button>
          <span role="status" class="muted">{copied.value ? "Link copied" : ""}</span>
        </div>
        <ul class="people-list">
          {me.value && (
            <li>
              <span class="person">
                {me.value.name} <span class="muted">(you)</span>
              </span>
            </li>
          )}
          {others.map((person) => (
            <li key={person.cid}>
              <span class="person">{person.name}</span>
              {busy.has(person.cid) ? <span class="muted">In a call with you</span> : (
                <button
                  type="button"
                  disabled={!online.value}
                  onClick={() => void callPerson(person.cid, person.name)}
                >
                  Call {person.name}
                </button>
              )}
            </li>
          ))}
        </ul>
        {others.length === 0 && online.value && (
          <p class="muted">No one else is here yet. Copy the link and send it to someone.</p>
        )}
        <div class="actions">
          <button
            type="button"
            disabled={!online.value || inGroupCall.value}
            onClick={() => void joinGroupCall()}
          >
            {inGroupCall.value ? "In the group call" : "Join group call"}
          </button>
          {!inCall.value && (
            <span class="muted">Everyone who joins the group call sees and hears each other.</span>
          )}
        </div>
        <form class="inline" onSubmit={onRename}>
          <label for="name-self">Your name</label>
          <input
            id="name-self"
            autocomplete="nickname"
            maxLength={LIMITS.maxDisplayNameLength}
            value={draft}
            onInput={(e) => draft.value = e.currentTarget.value}
          />
          <button type="submit" class="secondary" disabled={!online.value}>Save name</button>
        </form>
      </section>
      <ChatLog
        title="Room chat"
        lines={roomChat}
        label="Message"
        button="Send"
        send={postChat}
        empty="No messages yet. Say hello to everyone in the room."
        disabled={!online.value}
      />
    </div>
  );
}
