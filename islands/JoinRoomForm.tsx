import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

/** Where the landing page remembers the visitor's name. */
export const NAME_STORAGE_KEY = "parley.name";

// TODO: moves to lib/protocol's GROUP_NAME rule
const ROOM_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Whether `name` may name a room: 1–64 letters, digits, `-`, `_` or `.`.
 *
 * @example Usage
 * ```ts
 * import { isValidRoomName } from "./JoinRoomForm.tsx";
 * isValidRoomName("team-standup"); // true
 * ```
 */
export function isValidRoomName(name: string): boolean {
  return ROOM_NAME.test(name);
}

function roomError(room: string): string {
  if (room === "") return "Enter a room name.";
  if (room.length > 64) return "Room names are at most 64 characters.";
  if (!isValidRoomName(room)) return "Use letters, digits, - _ and . only.";
  // "." and ".." are path segments a URL swallows: /room/.. is just /.
  if (room === "." || room === "..") return "A room name needs more than dots.";
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
