/**
 * In-page probes of the rooms test: peer connections recorded for their
 * stats, a camera that refuses, and "is this video really moving".
 *
 * @module
 */
import type { Page } from "playwright-core";
import { waitFor } from "../_helpers/wait.ts";

/** Records every RTCPeerConnection the page makes, so the test can read its stats. */
export const RECORD_PEERS = `(() => {
  const Native = globalThis.RTCPeerConnection;
  globalThis.__pcs = [];
  globalThis.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); globalThis.__pcs.push(this); }
  };
})();`;

/** A camera that refuses: getUserMedia with video throws NotAllowedError. */
export const DENY_CAMERA = `(() => {
  const media = navigator.mediaDevices;
  const real = media.getUserMedia.bind(media);
  media.getUserMedia = (constraints) => constraints && constraints.video
    ? Promise.reject(new DOMException("Permission denied", "NotAllowedError"))
    : real(constraints);
})();`;

/** Frames decoded so far by each live peer connection of `page`, by remote video. */
export function framesPerPeer(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const pcs = (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const live = pcs.filter((pc) => pc.connectionState === "connected");
    return await Promise.all(live.map(async (pc) => {
      let frames = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
      });
      return frames;
    }));
  });
}

/** Waits until `page` has `count` remote tiles whose video is decoding and playing. */
export async function seesMovingVideo(page: Page, count: number, timeout = 20_000): Promise<void> {
  const tiles = page.locator(".tile[data-cid]");
  await waitFor(async () => (await tiles.count()) === count, {
    timeout,
    message: `${count} remote tiles`,
  });
  const before = await waitFor(async () => {
    const frames = await framesPerPeer(page);
    return frames.length === count && frames.every((f) => f > 0) && frames;
  }, { timeout, interval: 200, message: `frames decoded from ${count} peers` });
  const played = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLVideoElement>(".tile[data-cid] video")].map((v) =>
      v.currentTime
    )
  );
  await waitFor(async () => {
    const after = await framesPerPeer(page);
    const videos = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLVideoElement>(".tile[data-cid] video")].map((v) => ({
        width: v.videoWidth,
        time: v.currentTime,
      }))
    );
    return after.length === count && after.every((f, i) => f > before[i]) &&
      videos.every((v, i) => v.width > 0 && v.time > played[i]);
  }, { timeout: 10_000, interval: 200, message: "frames and playback advancing" });
}

export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Audio packets received so far by the live peer connections of `page`. */
export function audioPacketsIn(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pcs = (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    let packets = 0;
    for (const pc of pcs.filter((p) => p.connectionState === "connected")) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") packets += s.packetsReceived ?? 0;
      });
    }
    return packets;
  });
}
