import { sendFile } from "../lib/ui/file_transfer.ts";
import { calls, type Transfer, transfers } from "../lib/ui/room_state.ts";

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const STATUS_TEXT: Record<Transfer["status"]["value"], string> = {
  sending: "Sending…",
  sent: "Sent",
  receiving: "Receiving…",
  verified: "Received, checked (SHA-256 matches)",
  damaged: "Arrived damaged (SHA-256 differs): ask for it again",
  failed: "Stopped: the call ended or the connection dropped",
};

function TransferRow({ t }: { t: Transfer }) {
  const what = `${t.direction === "send" ? "To" : "From"} ${t.peer}: ${t.name}`;
  return (
    <li class={`transfer ${t.status}`} data-transfer={t.status}>
      <span class="file-name">{what} ({size(t.size)})</span>
      <progress max={t.size} value={t.done} aria-label={`${what}, progress`} />
      <span class="muted">{STATUS_TEXT[t.status.value]}</span>
      {t.url.value && (
        <a href={t.url.value} download={t.name}>
          Save {t.name}
        </a>
      )}
    </li>
  );
}

/** Sending files to everyone in the call, and the files on their way. */
export function FileShare() {
  const onPick = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    for (const file of files) await sendFile(file, calls.value);
  };
  return (
    <section class="card files" aria-labelledby="files-title">
      <h2 id="files-title">Files</h2>
      <label class="file-pick">
        <span>Send a file</span>
        <input type="file" onChange={onPick} />
      </label>
      {transfers.value.length > 0 && (
        <ul class="transfers">
          {transfers.value.map((t) => <TransferRow key={`${t.id}-${t.peer}`} t={t} />)}
        </ul>
      )}
    </section>
  );
}
