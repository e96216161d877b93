/**
 * This page's camera, microphone and screen: opened once and shared by
 * every call (the app owns the stream, so no hang-up stops it), with an
 * audio-only fallback when the camera cannot be had, device switching,
 * mute, and screen sharing by replacing the sent video track.
 *
 * @module
 */
import { calls, camOn, devices, localStream, micOn, notice, screenTrack } from "./room_state.ts";

const VIDEO: MediaTrackConstraints = {
  width: { ideal: 640 },
  height: { ideal: 480 },
  frameRate: { ideal: 24 },
};
const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true };

/** What to tell someone whose camera could not be opened. */
function cameraProblem(error: unknown): string {
  const name = (error as Error)?.name;
  const why = name === "NotFoundError" || name === "OverconstrainedError"
    ? "No camera was found"
    : name === "NotReadableError" || name === "AbortError"
    ? "Your camera is busy in another app"
    : "Your camera is blocked";
  const fix = name === "NotFoundError" || name === "OverconstrainedError"
    ? "connect one"
    : name === "NotReadableError" || name === "AbortError"
    ? "close that app"
    : "allow the camera in your browser's site settings";
  return `${why}, so you are in this call with audio only. To be seen, ${fix} and call again.`;
}

/**
 * The stream calls send: the one already open, or a new one. Asks for the
 * camera only when `video`; without it (denied, missing, busy) falls back to
 * the microphone alone and says so. Resolves to null when neither works.
 */
export async function ensureLocalMedia(video: boolean): Promise<MediaStream | null> {
  if (localStream.value) return localStream.value;
  const media = navigator.mediaDevices;
  let stream: MediaStream | null = null;
  if (video) {
    try {
      stream = await media.getUserMedia({ audio: AUDIO, video: VIDEO });
    } catch (error) {
      notice.value = { tone: "error", text: cameraProblem(error) };
    }
  }
  if (!stream) {
    try {
      stream = await media.getUserMedia({ audio: AUDIO });
    } catch {
      notice.value = {
        tone: "error",
        text: "Parley cannot use your microphone or camera. You can still see and hear " +
          "the others; to talk, allow the microphone in your browser's site settings.",
      };
      return null;
    }
  }
  localStream.value = stream;
  micOn.value = true;
  camOn.value = stream.getVideoTracks().length > 0;
  void listDevices();
  return stream;
}

/** Stops the camera, microphone and screen once no call needs them. */
export function releaseLocalMedia(): void {
  screenTrack.value?.stop();
  screenTrack.value = null;
  for (const track of localStream.value?.getTracks() ?? []) track.stop();
  localStream.value = null;
}

/** Refreshes the camera and microphone lists. */
export async function listDevices(): Promise<void> {
  try {
    const all = await navigator.mediaDevices.enumerateDevices();
    devices.value = all.filter((d) => d.kind === "videoinput" || d.kind === "audioinput");
  } catch {
    devices.value = [];
  }
}

function senders(kind: "audio" | "video"): RTCRtpSender[] {
  return calls.value.flatMap((view) =>
    view.conn?.target.getSenders().filter((s) => s.track?.kind === kind) ?? []
  );
}

/** Turns the microphone on or off (the track stays, silent). */
export function setMic(on: boolean): void {
  for (const track of localStream.value?.getAudioTracks() ?? []) track.enabled = on;
  micOn.value = on;
}

/** Turns the camera on or off (the track stays, black). */
export function setCamera(on: boolean): void {
  for (const track of localStream.value?.getVideoTracks() ?? []) track.enabled = on;
  camOn.value = on;
}

/** Switches to another camera or microphone in every call. */
export async function switchDevice(kind: "audio" | "video", deviceId: string): Promise<void> {
  const stream = localStream.value;
  if (!stream) return;
  const old = kind === "audio" ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
  if (old?.getSettings().deviceId === deviceId) return;
  let fresh: MediaStreamTrack;
  try {
    const constraints = { ...(kind === "audio" ? AUDIO : VIDEO), deviceId: { exact: deviceId } };
    const got = await navigator.mediaDevices.getUserMedia({ [kind]: constraints });
    fresh = kind === "audio" ? got.getAudioTracks()[0] : got.getVideoTracks()[0];
  } catch {
    notice.value = {
      tone: "error",
      text: "That device could not be opened. Check that it is connected and not in use.",
    };
    return;
  }
  fresh.enabled = kind === "audio" ? micOn.value : camOn.value;
  if (!(kind === "video" && screenTrack.value)) {
    await Promise.all(senders(kind).map((s) => s.replaceTrack(fresh)));
  }
  if (old) {
    stream.removeTrack(old);
    old.stop();
  }
  stream.addTrack(fresh);
  // A new MediaStream object makes the local preview pick up the new track.
  localStream.value = new MediaStream(stream.getTracks());
}

/** Shares a screen or window in place of the camera, in every call. */
export async function shareScreen(): Promise<void> {
  if (screenTrack.value) return;
  let track: MediaStreamTrack;
  try {
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    track = display.getVideoTracks()[0];
  } catch {
    return; // the person closed the picker
  }
  screenTrack.value = track;
  track.addEventListener("ended", () => void stopSharing());
  for (const view of calls.value) {
    const pc = view.conn?.target;
    const sender = pc?.getSenders().find((s) => s.track?.kind === "video");
    if (sender) await sender.replaceTrack(track);
    // Audio-only so far: adding a track renegotiates (the SDK handles it).
    else if (pc && localStream.value) pc.addTrack(track, localStream.value);
  }
}

/** Stops sharing and sends the camera again. */
export async function stopSharing(): Promise<void> {
  const track = screenTrack.value;
  if (!track) return;
  screenTrack.value = null;
  track.stop();
  const camera = localStream.value?.getVideoTracks()[0] ?? null;
  for (const view of calls.value) {
    const pc = view.conn?.target;
    for (const sender of pc?.getSenders() ?? []) {
      if (sender.track !== track) continue;
      if (camera) await sender.replaceTrack(camera);
      else pc!.removeTrack(sender);
    }
  }
}
