/**
 * Files over a call's `file-transfer` data channel: a JSON header with the
 * name, size and SHA-256 of the whole file, binary chunks sent with
 * backpressure (pause above a high-water mark, resume on
 * `bufferedamountlow`), and a JSON trailer; the receiver hashes what arrived
 * and compares before offering the file.
 *
 * @module
 */
import { signal } from "@preact/signals";
import {
  type CallView,
  notice,
  type Transfer,
  transfers,
  type TransferStatus,
} from "./room_state.ts";

/** The data-channel label of file transfers (an SDK preset). */
export const FILE_CHANNEL = "file-transfer";
/** Bytes per message: well under every browser's SCTP message limit. */
export const CHUNK_BYTES = 64 * 1024;
/** Stop queueing above this many buffered bytes… */
const HIGH_WATER = 1024 * 1024;
/** …and go on once the buffer drained below this. */
const LOW_WATER = 256 * 1024;
/** How long a send waits for the buffer to drain before giving up. */
const DRAIN_TIMEOUT_MS = 30_000;

interface Header {
  t: "file";
  id: string;
  name: string;
  size: number;
  type: string;
  sha256: string;
}

/** SHA-256 of `bytes` as lowercase hex. */
export async function sha256Hex(bytes: BufferSource): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function track(fields: Omit<Transfer, "done" | "status" | "url">, status: TransferStatus) {
  const transfer: Transfer = {
    ...fields,
    done: signal(0),
    status: signal(status),
    url: signal<string | null>(null),
  };
  transfers.value = [...transfers.value, transfer];
  return transfer;
}

/** Waits for `bufferedamountlow`; rejects when the channel closes or stalls. */
function drained(channel: RTCDataChannel): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      channel.removeEventListener("bufferedamountlow", onLow);
      channel.removeEventListener("close", onClose);
    };
    const onLow = () => (cleanup(), resolve());
    const onClose = () => (cleanup(), reject(new Error("the channel closed")));
    const timer = setTimeout(
      () => (cleanup(), reject(new Error("the channel stalled"))),
      DRAIN_TIMEOUT_MS,
    );
    channel.addEventListener("bufferedamountlow", onLow);
    channel.addEventListener("close", onClose);
  });
}

async function sendTo(
  channel: RTCDataChannel,
  header: Header,
  bytes: Uint8Array<ArrayBuffer>,
  transfer: Transfer,
): Promise<void> {
  channel.bufferedAmountLowThreshold = LOW_WATER;
  channel.send(JSON.stringify(header));
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    if (channel.bufferedAmount > HIGH_WATER) await drained(channel);
    if (channel.readyState !== "open") throw new Error("the channel closed");
    const chunk = bytes.subarray(offset, offset + CHUNK_BYTES);
    channel.send(chunk);
    transfer.done.value = Math.max(0, offset + chunk.length - channel.bufferedAmount);
  }
  channel.send(JSON.stringify({ t: "file-end", id: header.id }));
  transfer.done.value = bytes.length;
  transfer.status.value = "sent";
}

/** Sends `file` to everyone in the call whose file channel is open. */
export async function sendFile(file: File, views: CallView[]): Promise<void> {
  const targets = views.filter((v) => v.conn?.channels[FILE_CHANNEL]?.readyState === "open");
  if (targets.length === 0) {
    notice.value = { tone: "error", text: "No one in the call can receive files yet." };
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const header: Header = {
    t: "file",
    id: crypto.randomUUID(),
    name: file.name,
    size: bytes.length,
    type: file.type,
    sha256: await sha256Hex(bytes),
  };
  await Promise.all(targets.map(async (view) => {
    const transfer = track({
      id: header.id,
      name: file.name,
      size: bytes.length,
      peer: view.name.value,
      direction: "send",
    }, "sending");
    try {
      await sendTo(view.conn!.channels[FILE_CHANNEL], header, bytes, transfer);
    } catch {
      transfer.status.value = "failed";
    }
  }));
}

interface Incoming {
  header: Header;
  chunks: Uint8Array[];
  transfer: Transfer;
}

/**
 * The receiving end of one peer's file channel: feed it every message of the
 * channel. Returns a function that marks an unfinished file failed.
 */
export function fileReceiver(view: CallView): {
  receive: (data: unknown) => void;
  close: () => void;
} {
  let current: Incoming | null = null;
  const finish = async (incoming: Incoming) => {
    const { header, chunks, transfer } = incoming;
    const blob = new Blob(chunks as BlobPart[], {
      type: header.type || "application/octet-stream",
    });
    const hash = await sha256Hex(await blob.arrayBuffer());
    if (blob.size !== header.size || hash !== header.sha256) {
      transfer.status.value = "damaged";
      return;
    }
    transfer.url.value = URL.createObjectURL(blob);
    transfer.status.value = "verified";
  };
  return {
    receive(data) {
      const incoming = current;
      if (typeof data === "string") {
        const message = JSON.parse(data) as Header | { t: "file-end"; id: string };
        if (message.t === "file") {
          const transfer = track({
            id: message.id,
            name: message.name,
            size: message.size,
            peer: view.name.value,
            direction: "receive",
          }, "receiving");
          current = { header: message, chunks: [], transfer };
        } else if (message.t === "file-end" && incoming?.header.id === message.id) {
          current = null;
          void finish(incoming);
        }
        return;
      }
      if (!incoming || !(data instanceof ArrayBuffer)) return;
      incoming.chunks.push(new Uint8Array(data));
      incoming.transfer.done.value += data.byteLength;
    },
    close() {
      const incoming = current;
      if (incoming) incoming.transfer.status.value = "failed";
      current = null;
    },
  };
}
