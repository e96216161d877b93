/**
 * Invite links to private rooms: `/room/<name>#token=…`. The fragment never
 * reaches the server in a request line; the page hands the token to the SDK,
 * keeps it for this tab's session (sessionStorage, so a reload still gets
 * in) and takes it out of the address bar, so it is not copied by accident.
 *
 * @module
 */

const KEY_PREFIX = "parley.invite.";

/**
 * The token of `room`'s invite: from the address bar's `#token=…` (which is
 * then removed from it), else the one kept for this tab; undefined when none.
 *
 * @example
 * ```ts ignore
 * const token = takeInviteToken("board-meeting");
 * const client = new RealtimeClient({ name, token });
 * ```
 */
export function takeInviteToken(room: string): string | undefined {
  const key = KEY_PREFIX + room;
  const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fragment) {
    try {
      sessionStorage.setItem(key, fragment);
    } catch {
      // Storage disabled: this page load still has the token.
    }
    history.replaceState(history.state, "", location.pathname + location.search);
    return fragment;
  }
  try {
    return sessionStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Forgets the token kept for `room` (it was refused). */
export function forgetInviteToken(room: string): void {
  try {
    sessionStorage.removeItem(KEY_PREFIX + room);
  } catch {
    // Nothing kept.
  }
}

/** What the page says when the room is private and this tab has no (valid) invite. */
export const PRIVATE_ROOM_TEXT =
  "To enter it you need an invite link: ask the person who runs it to send you one. If you opened an invite link, it may have expired; ask for a new one.";
