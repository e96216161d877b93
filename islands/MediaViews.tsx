import { useComputed } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ChatLog } from "../components/ChatLog.tsx";
import { FileShare } from "../components/FileShare.tsx";
import { VideoTile } from "../components/VideoTile.tsx";
import { sendCallChat } from "../lib/ui/calls.ts";
import { hangUp } from "../lib/ui/group_call.ts";
import {
  listDevices,
  setCamera,
  setMic,
  shareScreen,
  stopSharing,
  switchDevice,
} from "../lib/ui/local_media.ts";
import {
  callChat,
  calls,
  camOn,
  devices,
  inCall,
  inGroupCall,
  localStream,
  me,
  micOn,
  screenTrack,
  showQuality,
} from "../lib/ui/room_state.ts";

function DevicePicker({ kind, label }: { kind: "audio" | "video"; label: string }) {
  const options = devices.value.filter((d) => d.kind === `${kind}input`);
  const tracks = kind === "audio"
    ? localStream.value?.getAudioTracks()
    : localStream.value?.getVideoTracks();
  const current = tracks?.[0]?.getSettings().deviceId ?? "";
  if (options.length === 0 || !tracks?.length) return null;
  const id = `device-${kind}`;
  return (
    <div class="picker">
      <label for={id}>{label}</label>
      <select
        id={id}
        value={current}
        onChange={(e) => void switchDevice(kind, e.currentTarget.value)}
      >
        {options.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>{d.label || `${label} ${i + 1}`}</option>
        ))}
      </select>
    </div>
  );
}

/**
 * The call: your preview and everyone else's tile in a grid that adapts to
 * how many there are, the call's controls, the in-call chat and files.
 * Shown only while this page is in a call.
 *
 * @example Usage
 * ```tsx
 * import MediaViews from "./MediaViews.tsx";
 * const views = <MediaViews />;
 * ```
 */
export default function MediaViews() {
  const count = useComputed(() => calls.value.length + 1);
  const hasCamera = useComputed(() => (localStream.value?.getVideoTracks().length ?? 0) > 0);
  // One stream object per change, so the preview is not reattached on every render.
  const preview = useComputed(() =>
    screenTrack.value ? new MediaStream([screenTrack.value]) : localStream.value
  );

  useEffect(() => {
    const refresh = () => void listDevices();
    navigator.mediaDevices?.addEventListener?.("devicechange", refresh);
    return () => navigator.mediaDevices?.removeEventListener?.("devicechange", refresh);
  }, []);

  if (!inCall.value) return null;
  const cols = count.value <= 1 ? 1 : count.value <= 4 ? 2 : 3;
  const rows = Math.ceil(count.value / cols);
  const waiting = inGroupCall.value && calls.value.length === 0;

  return (
    <section class="call" aria-labelledby="call-title">
      <h2 id="call-title" class="visually-hidden">Call</h2>
      <p class="call-status" role="status">
        {waiting
          ? "You are in the group call. Waiting for others to join…"
          : inGroupCall.value
          ? `Group call with ${calls.value.length} other${calls.value.length === 1 ? "" : "s"}`
          : `Call with ${calls.value.map((v) => v.name.value).join(", ")}`}
      </p>
      <ul class="tiles" style={{ "--cols": cols, "--rows": rows }} data-count={count}>
        {calls.value.map((view) => (
          <VideoTile
            key={view.cid}
            cid={view.cid}
            name={view.name.value}
            stream={view.stream.value}
            video={view.video.value}
            state={view.state.value}
            pc={view.conn?.target}
            quality={showQuality.value}
          />
        ))}
        <VideoTile
          key="local"
          name={`${me.value?.name ?? "You"} (you)`}
          stream={preview.value}
          video={hasCamera.value && (camOn.value || !!screenTrack.value)}
          local
        />
      </ul>
      <div class="controls" role="toolbar" aria-label="Call controls">
        <button type="button" class="secondary" onClick={() => setMic(!micOn.value)}>
          {micOn.value ? "Mute" : "Unmute"}
        </button>
        <button
          type="button"
          class="secondary"
          disabled={!hasCamera.value}
          onClick={() => setCamera(!camOn.value)}
        >
          {camOn.value ? "Camera off" : "Camera on"}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => void (screenTrack.value ? stopSharing() : shareScreen())}
        >
          {screenTrack.value ? "Stop sharing" : "Share screen"}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => showQuality.value = !showQuality.value}
        >
          {showQuality.value ? "Hide quality" : "Show quality"}
        </button>
        <button type="button" class="danger" onClick={() => void hangUp()}>Hang up</button>
      </div>
      <div class="devices">
        <DevicePicker kind="video" label="Camera" />
        <DevicePicker kind="audio" label="Microphone" />
      </div>
      <div class="call-side">
        <ChatLog
          title="Call chat"
          lines={callChat}
          label="Message to the call"
          button="Send to call"
          send={(text) => (sendCallChat(text), true)}
          empty="Messages here go straight to the people in the call."
        />
        <FileShare />
      </div>
    </section>
  );
}
