/**
 * A call's signals through a real hub, with a stand-in RTCPeerConnection
 * whose candidates the test hands out one by one: offers, answers and
 * candidates go without an ack (protocol v3), the ring with one, and a
 * signal that finds its peer gone still ends the call as the contract says.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

/** Just enough of an RTCPeerConnection for a call's signals; `last` is the newest. */
class StandInPeerConnection extends EventTarget {
  static last: StandInPeerConnection | null = null;
  signalingState: RTCSignalingState = "stable";
  connectionState: RTCPeerConnectionState = "new";
  iceConnectionState: RTCIceConnectionState = "new";
  iceGatheringState: RTCIceGatheringState = "new";
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  constructor() {
    super();
    StandInPeerConnection.last = this;
  }
  addTrack() {}
  getTransceivers() {
    return [];
  }
  restartIce() {}
  createDataChannel(label: string, init: RTCDataChannelInit = {}) {
    return Object.assign(new EventTarget(), {
      label,
      readyState: "connecting",
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 0,
      ...init,
      close() {},
    });
  }
  setLocalDescription() {
    this.localDescription = { type: "offer", sdp: "v=0\r\n" };
    this.signalingState = "have-local-offer";
    return Promise.resolve();
  }
  setRemoteDescription(description: RTCSessionDescriptionInit) {
    this.remoteDescription = description;
    this.signalingState = "stable";
    return Promise.resolve();
  }
  addIceCandidate() {
    return Promise.resolve();
  }
  close() {
    this.connectionState = "closed";
    this.signalingState = "closed";
  }
  /** Gathers one local candidate, as a browser's `icecandidate` event. */
  gather(n: number) {
    const candidate = {
      candidate: `candidate:${n} 1 udp 1 10.0.0.1 ${5000 + n} typ host`,
      sdpMid: "0",
      sdpMLineIndex: 0,
      usernameFragment: "u",
    };
    this.dispatchEvent(Object.assign(new Event("icecandidate"), { candidate }));
  }
}

/** A WebSocket that records the frames the SDK sends. */
function recording(sent: Array<Record<string, unknown>>): typeof WebSocket {
  return class extends WebSocket {
    override send(data: string) {
      sent.push(JSON.parse(data));
      super.send(data);
    }
  };
}

Deno.test("a call's offer and candidates go unacked, the ring acked; a candidate to a peer gone ends the call with NOT_FOUND", async () => {
  await using server = await startHub();
  const sent: Array<Record<string, unknown>> = [];
  const events: RealtimeCallbackEvent[] = [];
  const ada = new RealtimeClient({
    url: server.url,
    WebSocket: recording(sent),
    RTCPeerConnection: StandInPeerConnection as unknown as typeof RTCPeerConnection,
  });
  await ada.connectRealtime((event) => events.push(event));
  const bob = await rawClient(server.url, { v: "3" });
  const rtc: string[] = [];
  const connector = await ada.connectRTC(
    { cid: bob.welcome.cid, media: false, ice: [] },
    (event) =>
      rtc.push(
        event.type === "connectionstatechange" ? `${event.type}:${event.state}` : event.type,
      ),
  );
  const ring = await bob.next<Extract<typeof bob.frames[number], { type: "signal" }>>((f) =>
    f.type === "signal" && f.signal.kind === "call"
  );
  const call = ring.signal.call;
  bob.send({ type: "signal", to: ada.user!.cid, signal: { kind: "accept", call } });
  const connection = await connector.connection;
  assert.ok(connection, "the call is active once accepted");
  const pc = StandInPeerConnection.last!;
  pc.dispatchEvent(new Event("negotiationneeded"));
  await bob.next((f) => f.type === "signal" && f.signal.kind === "description");
  for (let n = 0; n < 5; n++) pc.gather(n);
  await waitFor(() =>
    bob.frames.filter((f) => f.type === "signal" && f.signal.kind === "candidate").length === 5
  );
  const signals = sent.filter((f) => f.type === "signal");
  const kinds = signals.map((f) => [(f.signal as { kind: string }).kind, "id" in f]);
  assert.deepEqual(kinds.slice(0, 2), [["call", true], ["description", false]]);
  assert.ok(kinds.slice(2).every(([kind, id]) => kind === "call" || (kind === "candidate" && !id)));

  // Bob leaves (in no group: nobody is told). Ada's next candidate finds nobody.
  bob.send({ type: "bye" });
  await bob.closed;
  pc.gather(99);
  const closed = await waitFor(() => events.find((e) => e.type === "rtc:closed"));
  assert.equal((closed as { code: unknown }).code, "NOT_FOUND");
  assert.equal((closed as { sender_cid: unknown }).sender_cid, bob.welcome.cid);
  assert.equal(rtc.at(-1), "connectionstatechange:closed");
  assert.ok(!events.some((e) => e.type === "error"), "no app error for the call's own signal");
  await ada.closeRealtime();
});
