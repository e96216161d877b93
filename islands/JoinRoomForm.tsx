import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { isGroupName } from "../lib/protocol/mod.ts";

/** Where the landing page remembers the visitor's name. */
export const NAME_STORAGE_KEY = "parley.name";

function roomError(room: string): string {
  if (room === "") return "Enter a room name.";
  if (room.length > 64) return "Room names are at most 64 characters.";
  // "." and ".." are path segments a URL swallows: /room/.. is just /.
  if (room === "." || room === "..") return "A room name needs more than dots.";
  if (!isGroupName(room)) return "Use letters, digits, - _ and . only.";
  return "";
}

/**
 * Landing form: your name and a room name; Enter or "Join room" opens
 * `/room/<name>` once the room name is valid. The name is remembered.
 *
 * @example Usage
 * ```tsx
 * import JoinRoomForm from "./JoinRoomForm.tsx";
 * const form = <JoinRoomForm />;
 * ```
 */
export default function JoinRoomForm() {
  const name = useSignal("");
  const room = useSignal("");
  const error = useSignal("");

  useEffect(() => {
    name.value = localStorage.getItem(NAME_STORAGE_KEY) ?? "";
  }, []);

  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const roomName = room.value.trim();
    error.value = roomError(roomName);
    if (error.value) {
      document.getElementById("join-room")?.focus();
      return;
    }
    const who = name.value.trim();
    if (who) localStorage.setItem(NAME_STORAGE_KEY, who);
    location.assign(`/room/${encodeURIComponent(roomName)}`);
  };

  return (
    <form class="join" onSubmit={onSubmit} noValidate>
      <label for="join-name">Your name</label>
      <input
        id="join-name"
        name="name"
        autocomplete="nickname"
        maxLength={64}
        value={name}
        onInput={(e) => name.value = e.currentTarget.value}
      />
      <label for="join-room">Room name</label>
      <input
        id="join-room"
        name="room"
        required
        maxLength={64}
        pattern="[A-Za-z0-9._\-]{1,64}"
        autocapitalize="off"
        spellcheck={false}
        aria-invalid={error.value ? "true" : undefined}
        aria-describedby={error.value ? "join-room-error" : undefined}
        value={room}
        onInput={(e) => {
          room.value = e.currentTarget.value;
          if (error.value) error.value = roomError(room.value.trim());
        }}
      />
      {error.value && <p id="join-room-error" class="error" role="alert">{error}</p>}
      <button type="submit">Join room</button>
    </form>
  );
}
