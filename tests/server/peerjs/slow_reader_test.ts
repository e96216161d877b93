/**
 * A PeerJS peer that stops reading: once more than the bound is queued on
 * its socket, the server lets it go (close 4004, its id released; PeerJS
 * keeps no resume log, its client reconnects with its token), while its
 * sender goes on being served.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CLOSE } from "../../../lib/protocol/mod.ts";
import { rawWebSocket } from "../../_helpers/faults.ts";
import { waitFor } from "../../_helpers/wait.ts";
import { peerSocket, startPeerjs } from "./_peerjs.ts";

Deno.test("a PeerJS peer that never reads is closed 4004 past the bound and its id freed", async () => {
  await using peerjs = await startPeerjs({
    limits: { maxBufferedBytes: 256 * 1024, rateLimit: 10_000, rateBurst: 10_000 },
  });
  const slow = await rawWebSocket(`${peerjs.url}?key=peerjs&id=slow&token=t1`);
  assert.equal((await slow.nextJson<{ type: string }>())?.type, "OPEN");
  const sender = await peerSocket(peerjs.url, { id: "sender", token: "t2" });
  try {
    await sender.next((f) => f.type === "OPEN");
    const sdp = "v=0 ".repeat(7_500);
    // 9 MB: more than the kernel's buffers (4 MB send, what the receiver took) and the bound.
    for (let i = 0; i < 300; i++) sender.send({ type: "OFFER", dst: "slow", payload: { sdp, i } });
    await waitFor(() => !peerjs.peerjs.relay.peers.has("slow"), {
      timeout: 15_000,
      message: "the slow peer let go",
    });
    let code: number | null = null;
    for (let frame; (frame = await slow.next()) !== null;) {
      if (frame.opcode === 8) {
        code = (frame.payload[0] << 8) | frame.payload[1];
        break;
      }
    }
    assert.equal(code, CLOSE.slowReader);
    assert.ok(peerjs.peerjs.relay.peers.has("sender"), "the sender is still served");
  } finally {
    slow.close();
    await sender.close();
  }
});
