import { useComputed } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { accept, reject } from "../lib/ui/calls.ts";
import { outcome, outgoing, ringing } from "../lib/ui/room_state.ts";

/**
 * The modal call dialog: an incoming call ("Accept", "Accept audio only",
 * "Reject"), an outgoing call ringing ("Cancel"), or how a call that rang
 * ended (declined, missed, failed). A native `<dialog>` opened with
 * `showModal()`: focus moves in, the page behind is inert, Escape rejects,
 * cancels or closes, and focus returns where it was.
 *
 * @example Usage
 * ```tsx
 * import CallDialog from "./CallDialog.tsx";
 * const dialog = <CallDialog />;
 * ```
 */
export default function CallDialog() {
  const ref = useRef<HTMLDialogElement>(null);
  const incoming = useComputed(() => ringing.value[0] ?? null);
  const kind = useComputed(() =>
    incoming.value ? "incoming" : outgoing.value ? "outgoing" : outcome.value ? "outcome" : null
  );

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (kind.value && !dialog.open) dialog.showModal();
    if (!kind.value && dialog.open) dialog.close();
    // The dialog stays open when what it shows changes: move focus to its first action.
    if (kind.value) dialog.querySelector<HTMLElement>("[data-primary]")?.focus();
  }, [kind.value, incoming.value]);

  const onCancel = (event: Event) => {
    event.preventDefault();
    if (incoming.value) reject(incoming.value);
    else if (outgoing.value) outgoing.value.cancel();
    else outcome.value = null;
  };

  const call = incoming.value;
  return (
    <dialog
      ref={ref}
      class="call-dialog"
      aria-labelledby="call-dialog-title"
      aria-describedby="call-dialog-text"
      onCancel={onCancel}
    >
      {call
        ? (
          <>
            <h2 id="call-dialog-title">Incoming call</h2>
            <p id="call-dialog-text">
              <b>{call.name || "Someone"}</b>{" "}
              is calling you{call.media.video ? "" : " (audio only)"}.
            </p>
            <div class="actions">
              <button type="button" data-primary onClick={() => void accept(call)}>Accept</button>
              <button type="button" class="secondary" onClick={() => void accept(call, true)}>
                Accept audio only
              </button>
              <button type="button" class="danger" onClick={() => reject(call)}>Reject</button>
            </div>
          </>
        )
        : outgoing.value
        ? (
          <>
            <h2 id="call-dialog-title">Calling {outgoing.value.name}…</h2>
            <p id="call-dialog-text">Waiting for {outgoing.value.name} to answer.</p>
            <div class="actions">
              <button type="button" class="danger" data-primary onClick={outgoing.value.cancel}>
                Cancel
              </button>
            </div>
          </>
        )
        : outcome.value
        ? (
          <>
            <h2 id="call-dialog-title">
              {/missed/.test(outcome.value) ? "Missed call" : "Call not connected"}
            </h2>
            <p id="call-dialog-text">{outcome}</p>
            <div class="actions">
              <button type="button" data-primary onClick={() => outcome.value = null}>
                Close
              </button>
            </div>
          </>
        )
        : null}
    </dialog>
  );
}
