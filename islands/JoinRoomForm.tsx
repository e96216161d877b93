import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { isGroupName } from "../lib/protocol/mod.ts";
import { randomRoomName, rememberedName, rememberName } from "../lib/ui/names.ts";

export { NAME_STORAGE_KEY } from "../lib/ui/names.ts";

function roomError(room: string): string {
  if (room === "") return "Enter a room name.";
  if (room.length > 64) return "Room names are at most 64 characters.";
  // "." and ".." are path segments a URL swallows: /room/.. is just /.
  if (room === "." || room === "..") return "A room name needs more than dots.";
  if (!isGroupName(room)) return "Room names cannot hold tabs or other control characters.";
  return "";
}

/**
 * Landing form: your name and a room name; Enter or "Join room" opens
 * `/room/<name>` once the room name is valid, "Create room" opens a new room
 * with a random readable name. The name is remembered.
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
    name.value = rememberedName();
  }, []);

  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const roomName = room.value.trim();
    error.value = roomError(roomName);
    if (error.value) {
      document.getElementById("join-room")?.focus();
      return;
    }
    rememberName(name.value);
    location.assign(`/room/${encodeURIComponent(roomName)}`);
  };

  const onCreate = () => {
    rememberName(name.value);
    location.assign(`/room/${randomRoomName()}`);
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
      <div class="actions">
        <button type="submit">Join room</button>
        <button type="button" class="secondary" onClick={onCreate}>Create room</button>
      </div>
    </form>
  );
}
