/**
 * The local media of one call. A stream the app passes is used as given and
 * never stopped here; a stream the SDK opened (media `true` or constraints)
 * belongs to its call and is stopped when the call ends.
 *
 * @module
 */
import type { MediaOption, RtcEnvironment } from "./types.ts";

/** A call's local stream and whether the call owns it. */
export interface CallMedia {
  stream: MediaStream | null;
  /** True when the SDK opened the stream, so the call must stop it. */
  owned: boolean;
}

function isStream(media: unknown): media is MediaStream {
  return typeof media === "object" && media !== null &&
    typeof (media as MediaStream).getTracks === "function";
}

/**
 * What `media` asks for, as the ring announces it.
 *
 * @example
 * ```ts
 * import { mediaKinds } from "./media.ts";
 * console.log(mediaKinds(true)); // { audio: true, video: true }
 * ```
 */
export function mediaKinds(media: MediaOption | undefined): { audio: boolean; video: boolean } {
  if (!media) return { audio: false, video: false };
  if (media === true) return { audio: true, video: true };
  if (isStream(media)) {
    return {
      audio: media.getAudioTracks().length > 0,
      video: media.getVideoTracks().length > 0,
    };
  }
  return { audio: !!media.audio, video: !!media.video };
}

/**
 * Skapi's stand-in for `{ audio: false, video: false }`: a 1×1 canvas video
 * track, so such a call still carries a (blank) stream as it does in Skapi.
 * Outside a page there is no canvas: no stream.
 */
function blankStream(): MediaStream | null {
  if (typeof document === "undefined" || typeof MediaStream !== "function") return null;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const track = canvas.captureStream?.().getVideoTracks()[0];
  return track ? new MediaStream([track]) : null;
}

/**
 * Opens (or adopts) the local media of a call. The app's own stream is
 * returned as is: no copy, no clone. `{ audio: false, video: false }` gives
 * a blank video stream, as in Skapi; `false` or nothing gives none.
 *
 * @throws {DOMException} the browser's own getUserMedia failure
 * (`NotAllowedError`, `NotFoundError`, …), as in Skapi, so apps can switch on `err.name`
 * @example
 * ```ts ignore
 * const { stream, owned } = await acquireMedia({ audio: true, video: false });
 * releaseMedia({ stream, owned }); // stops it, as the SDK opened it
 * ```
 */
export async function acquireMedia(
  media: MediaOption | undefined,
  env: RtcEnvironment = {},
): Promise<CallMedia> {
  if (!media) return { stream: null, owned: false };
  if (isStream(media)) return { stream: media, owned: false };
  const constraints = media === true ? { audio: true, video: true } : media;
  if (!constraints.audio && !constraints.video) {
    const blank = blankStream();
    return { stream: blank, owned: blank !== null };
  }
  const getUserMedia = env.getUserMedia ??
    ((c: MediaStreamConstraints) => globalThis.navigator.mediaDevices.getUserMedia(c));
  return { stream: await getUserMedia(constraints), owned: true };
}

/**
 * Stops the stream if the call owns it; an app's stream is left running.
 *
 * @example
 * ```ts ignore
 * releaseMedia({ stream: appStream, owned: false }); // no-op
 * ```
 */
export function releaseMedia(media: CallMedia): void {
  if (!media.owned || !media.stream) return;
  for (const track of media.stream.getTracks()) track.stop();
}
