/**
 * werift's RTCPeerConnection shaped as the browser's, to inject into the SDK
 * (`new RealtimeClient({ RTCPeerConnection: weriftPeerConnection() })`) so
 * calls run under Deno.
 *
 * werift already speaks most of the browser API (`addEventListener`,
 * `setLocalDescription()` without arguments, negotiated data channels,
 * `restartIce`); the adapter pins what differs: `urls` as werift expects
 * them, candidates as plain `RTCIceCandidateInit`, and never a public STUN
 * server. werift 0.24.4 queries stun.l.google.com:19302 whenever it is given
 * no STUN server, even with `iceServers: []`; the adapter then hands it
 * `stun:127.0.0.1:9` (nothing answers, nothing leaves the host), which costs
 * werift's 5 s STUN timeout before its offer goes out. Pass a local STUN
 * server (coturn) to avoid that wait.
 *
 * @example
 * ```ts ignore
 * import { weriftPeerConnection } from "./werift.ts";
 * const client = new RealtimeClient({ url, RTCPeerConnection: weriftPeerConnection() });
 * ```
 *
 * @module
 */
import { RTCPeerConnection as WeriftPeerConnection } from "npm:werift@0.24.4";

/** Where werift's STUN queries go when no STUN server is given: nowhere. */
const NO_STUN = "stun:127.0.0.1:9";

/** Options of {@linkcode weriftPeerConnection}. */
export interface WeriftOptions {
  /** Extra host addresses to gather (e.g. `["127.0.0.1"]` on a loopback-only host). */
  iceAdditionalHostAddresses?: string[];
}

/**
 * A constructor with the browser's signature that builds werift peers.
 * ICE servers the SDK passes are kept (werift takes one URL per entry);
 * with none, werift gets `iceServers: []`, never its public default.
 */
export function weriftPeerConnection(options: WeriftOptions = {}): typeof RTCPeerConnection {
  class Adapted extends WeriftPeerConnection {
    constructor(config: RTCConfiguration = {}) {
      let iceServers = (config.iceServers ?? []).flatMap((server) =>
        (Array.isArray(server.urls) ? server.urls : [server.urls]).map((urls) => ({
          urls,
          username: server.username,
          credential: server.credential as string | undefined,
        }))
      );
      if (!iceServers.some((s) => /^stuns?:/.test(s.urls))) {
        iceServers = [...iceServers, { urls: NO_STUN, username: undefined, credential: undefined }];
      }
      super({
        iceServers,
        iceTransportPolicy: config.iceTransportPolicy === "relay" ? "relay" : "all",
        ...options,
      });
    }

    override addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
      if (!candidate || !candidate.candidate) return Promise.resolve();
      return super.addIceCandidate({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? undefined,
        sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
      } as never);
    }
  }
  return Adapted as unknown as typeof RTCPeerConnection;
}
