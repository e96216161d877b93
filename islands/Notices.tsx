import { useSignalEffect } from "@preact/signals";
import { ConnectionState } from "../lib/sdk/events.ts";
import { connectionState, me, notice } from "../lib/ui/room_state.ts";

/** How long an informational notice stays (errors stay until dismissed). */
const INFO_MS = 8_000;

const STATUS: Record<ConnectionState, string> = {
  [ConnectionState.Disconnected]: "Offline",
  [ConnectionState.Connecting]: "Connecting…",
  [ConnectionState.Connected]: "Connected",
  [ConnectionState.Reconnecting]:
    "Connection lost. Reconnecting… Your calls stay up if it comes back soon.",
};

/**
 * The room's messages to the person at the keyboard, above everything
 * else: the connection's state when it is not plainly connected, and the
 * latest notice (what happened and what to do).
 *
 * @example Usage
 * ```tsx
 * import Notices from "./Notices.tsx";
 * const notices = <Notices />;
 * ```
 */
export default function Notices() {
  useSignalEffect(() => {
    const current = notice.value;
    if (current?.tone !== "info") return;
    const timer = setTimeout(() => {
      if (notice.peek() === current) notice.value = null;
    }, INFO_MS);
    return () => clearTimeout(timer);
  });

  const state = connectionState.value;
  // Before the first connection the lobby says it is opening the room.
  const showState = state !== ConnectionState.Connected && (me.value !== null ||
    state === ConnectionState.Reconnecting);
  return (
    <div class="notices">
      <p class={`status ${state}`} role="status" hidden={!showState}>
        {showState ? STATUS[state] : ""}
      </p>
      <NoticeSlot role="alert" tone="error" />
      <NoticeSlot role="status" tone="info" />
    </div>
  );
}

/** Where a notice of one tone appears; the live region exists before it has anything to say. */
function NoticeSlot({ role, tone }: { role: "alert" | "status"; tone: "error" | "info" }) {
  return (
    <div role={role} class="notice-slot">
      {notice.value?.tone === tone && (
        <div class={`notice ${tone}`}>
          <p>{notice.value.text}</p>
          <button type="button" class="secondary" onClick={() => notice.value = null}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
