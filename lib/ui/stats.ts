/**
 * Connection quality of one call from `RTCPeerConnection.getStats()`:
 * round-trip time of the selected candidate pair, the incoming bitrate and
 * the share of incoming packets lost since the previous sample.
 *
 * @module
 */

/** One sample; null where the browser has no number yet. */
export interface Quality {
  /** Round-trip time in ms. */
  rttMs: number | null;
  /** Incoming bitrate in kbit/s since the previous sample. */
  kbps: number | null;
  /** Incoming packets lost since the previous sample, in percent. */
  lossPercent: number | null;
}

/**
 * Returns a function that samples `pc`; each call compares with the last.
 *
 * @example
 * ```ts ignore
 * const sample = qualitySampler(pc);
 * setInterval(async () => console.log(await sample()), 1000);
 * ```
 */
export function qualitySampler(pc: RTCPeerConnection): () => Promise<Quality> {
  let last: { at: number; bytes: number; received: number; lost: number } | null = null;
  return async () => {
    const report = await pc.getStats();
    let rttMs: number | null = null;
    let bytes = 0, received = 0, lost = 0, at = 0;
    report.forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
        if (typeof s.currentRoundTripTime === "number") rttMs = s.currentRoundTripTime * 1000;
      }
      if (s.type === "inbound-rtp") {
        bytes += s.bytesReceived ?? 0;
        received += s.packetsReceived ?? 0;
        lost += Math.max(0, s.packetsLost ?? 0);
        at = Math.max(at, s.timestamp);
      }
    });
    const previous = last;
    last = { at, bytes, received, lost };
    if (!previous || at <= previous.at) return { rttMs, kbps: null, lossPercent: null };
    const kbps = ((bytes - previous.bytes) * 8) / (at - previous.at);
    const packets = received - previous.received + lost - previous.lost;
    const lossPercent = packets > 0 ? ((lost - previous.lost) / packets) * 100 : 0;
    return { rttMs, kbps, lossPercent };
  };
}
