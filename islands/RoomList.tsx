import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { GroupRow } from "../lib/protocol/mod.ts";

/** How often the list asks the server again, in ms. */
const REFRESH_MS = 4_000;

/** Props of {@linkcode RoomList}. */
export interface RoomListProps {
  /** Rows to ask for. @default 50 */
  limit?: number;
}

/**
 * The live rooms and how many people are in each, refreshed every few
 * seconds from `GET /api/rooms` while the page is visible.
 *
 * @example Usage
 * ```tsx
 * import RoomList from "./RoomList.tsx";
 * const list = <RoomList limit={20} />;
 * ```
 */
export default function RoomList({ limit = 50 }: RoomListProps) {
  const rooms = useSignal<GroupRow[] | null>(null);
  const failed = useSignal(false);
  /** The server requires tokens: its rooms are private and not listed here. */
  const closed = useSignal(false);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abort = new AbortController();
    const load = async () => {
      if (document.visibilityState === "visible") {
        try {
          const res = await fetch(`/api/rooms?limit=${limit}`, { signal: abort.signal });
          if (res.status === 401) {
            closed.value = true;
            return; // asking again will not change that
          }
          if (!res.ok) throw new Error(`GET /api/rooms answered ${res.status}`);
          rooms.value = (await res.json()).list;
          failed.value = false;
        } catch {
          if (abort.signal.aborted) return;
          failed.value = true;
        }
      }
      timer = setTimeout(load, REFRESH_MS);
    };
    void load();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [limit]);

  const list = rooms.value;
  return (
    <section class="card rooms" aria-labelledby="rooms-title">
      <h2 id="rooms-title">Rooms in use</h2>
      {failed.value && (
        <p class="error" role="status">
          Can't reach the Parley server right now. The list will refresh once it's back.
        </p>
      )}
      {closed.value
        ? <p class="muted">Rooms here are private: enter one from its invite link.</p>
        : list === null
        ? <p class="muted">Looking for rooms…</p>
        : list.length === 0
        ? <p class="muted">No one is in a room right now. Create one and share its link.</p>
        : (
          <ul class="room-list">
            {list.map((row) => (
              <li key={row.group}>
                <a href={`/room/${encodeURIComponent(row.group)}`}>{row.group}</a>
                <span class="count">
                  {row.number_of_users} {row.number_of_users === 1 ? "person" : "people"}
                </span>
              </li>
            ))}
          </ul>
        )}
    </section>
  );
}
