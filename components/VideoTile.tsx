import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { type Quality, qualitySampler } from "../lib/ui/stats.ts";

/** Props of {@linkcode VideoTile}. */
export interface VideoTileProps {
  /** Whose tile: "You" or the other person's name. */
  name: string;
  /** The stream to play (null while it has not arrived). */
  stream: MediaStream | null;
  /** Whether there is video to show (else a placeholder with the initial). */
  video: boolean;
  /** The connection's state, for remote tiles. */
  state?: RTCPeerConnectionState;
  /** The local preview: muted (no echo) and mirrored. */
  local?: boolean;
  /** The call's peer connection, to sample its quality. */
  pc?: RTCPeerConnection | null;
  /** Whether to show the quality panel. */
  quality?: boolean;
  /** The remote participant's cid, for tests and styling. */
  cid?: string;
}

const STATE_TEXT: Record<RTCPeerConnectionState, string> = {
  new: "Connecting…",
  connecting: "Connecting…",
  connected: "Connected",
  disconnected: "Reconnecting…",
  failed: "Connection failed",
  closed: "Ended",
};

function QualityPanel({ pc }: { pc: RTCPeerConnection }) {
  const quality: Signal<Quality | null> = useSignal(null);
  useEffect(() => {
    const sample = qualitySampler(pc);
    const tick = async () => {
      try {
        quality.value = await sample();
      } catch { /* closed meanwhile */ }
    };
    void tick();
    const timer = setInterval(tick, 1_000);
    return () => clearInterval(timer);
  }, [pc]);
  const q = quality.value;
  const show = (n: number | null | undefined, digits: number, unit: string) =>
    n === null || n === undefined ? "…" : `${n.toFixed(digits)} ${unit}`;
  return (
    <dl class="quality" aria-label="Connection quality">
      <div>
        <dt>Round trip</dt>
        <dd>{show(q?.rttMs, 0, "ms")}</dd>
      </div>
      <div>
        <dt>Bitrate</dt>
        <dd>{show(q?.kbps, 0, "kbit/s")}</dd>
      </div>
      <div>
        <dt>Packet loss</dt>
        <dd>{show(q?.lossPercent, 1, "%")}</dd>
      </div>
    </dl>
  );
}

/**
 * One participant: their video in a fixed 4:3 frame (no layout jump when it
 * arrives), their name and connection state, and on demand the quality.
 */
export function VideoTile(props: VideoTileProps) {
  const { name, stream, video, state, local, pc, quality, cid } = props;
  const ref = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el || el.srcObject === stream) return;
    el.srcObject = stream;
    // Autoplay with sound can be refused without a gesture: play muted then.
    el.play?.().catch(() => {
      if (!el.muted) {
        el.muted = true;
        void el.play().catch(() => {});
      }
    });
  }, [stream]);

  return (
    <li class={`tile${local ? " local" : ""}`} data-cid={cid}>
      <video
        ref={ref}
        autoplay
        playsinline
        muted={local}
        hidden={!video}
        aria-label={local ? "Your camera" : `Video of ${name}`}
      />
      {!video && (
        <div class="avatar" aria-hidden="true">
          <span>{name.trim().charAt(0).toUpperCase() || "?"}</span>
        </div>
      )}
      <p class="caption">
        <span class="who">{name}</span>
        {state && <span class={`state ${state}`}>{STATE_TEXT[state]}</span>}
        {!video && <span class="state">Audio only</span>}
      </p>
      {quality && pc && <QualityPanel pc={pc} />}
    </li>
  );
}
