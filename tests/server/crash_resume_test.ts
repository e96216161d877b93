/**
 * Resumes never lie: a client whose socket dropped (suspended on the
 * server) is sent private messages, each acked to its sender; then the
 * server process is SIGKILLed with the only copy of them in its memory, and
 * restarted on the same KV file and port. The client comes back with its
 * resume claim: it must either get every acked message or be told that it
 * started afresh (`missedMessages` on its `success` event; a new session
 * under the same cid, rejoined to its room), with no ghost left in the room
 * — never `resumed` with a gap.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import { crash } from "../_helpers/faults.ts";
import { rawClient } from "../_helpers/hub.ts";
import { startProxy } from "../_helpers/proxy.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

const ACKED = 5;
/**
 * Bob's connection dies with the first server: a live server sweeps it once
 * the dead one's last beat is older than its TTL and the resume grace.
 */
const env = { PARLEY_ISOLATE_TTL_MS: "2000", PARLEY_RESUME_GRACE_MS: "4000" };

Deno.test("after a SIGKILL a suspended client gets all it was sent or is told it started afresh", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-crash-" });
  const kvPath = `${dir}/kv.sqlite3`;
  try {
    const first = await startApp({ kvPath, env });
    await using proxy = startProxy(first.port);
    const seen: RealtimeCallbackEvent[] = [];
    const ada = new RealtimeClient({
      url: proxy.url,
      name: "Ada",
      timeouts: { reconnectBase: 200, reconnectMax: 400 },
    });
    await ada.connectRealtime((event) => seen.push(event));
    await ada.joinRealtime({ group: "crash" });
    const oldCid = ada.user!.cid;
    const bob = await rawClient(first.wsUrl, { name: "Bob" });
    await bob.request({ type: "join", group: "crash" });

    // Ada's socket drops without a word: the server keeps her connection for its grace.
    proxy.down = true;
    proxy.cut();
    await waitFor(() => ada.state === "reconnecting", { message: "Ada noticed the drop" });
    for (let i = 0; i < ACKED; i++) {
      const answer = await bob.request({
        type: "post",
        recipient: ada.user!.user_id,
        message: { i },
      });
      assert.equal(answer.type, "ack", "each message is acked to its sender");
    }
    await crash(first);
    bob.socket.close();

    await using second = await startApp({ kvPath, env, port: first.port });
    const successes = seen.length;
    proxy.down = false;
    const back = await waitFor(
      () => seen.slice(successes).find((e) => e.type === "success"),
      { timeout: 20_000, message: "Ada back on the restarted server" },
    );
    assert.equal(back.type, "success");
    const got = seen.filter((e) => e.type === "private").map((e) => (e.message as { i: number }).i);
    const resumed = back.resumed;
    console.log(`back: "${back.message}", missedMessages ${back.missedMessages}, got [${got}]`);
    if (resumed) {
      assert.deepEqual(got, [0, 1, 2, 3, 4], "a resume delivers every acked message");
      assert.equal(back.missedMessages, false);
    } else {
      assert.equal(back.missedMessages, true, "a fresh start after a loss says so");
      assert.equal(ada.user!.cid, oldCid, "a fresh session under the same cid: calls go on");
    }
    // Back in the room (the SDK rejoined), no ghost of her old connection (nor of Bob's) in it.
    const carol = await rawClient(second.wsUrl, { name: "Carol" });
    let last = "";
    try {
      await waitFor(async () => {
        const answer = await carol.request({ type: "users", group: "crash" });
        const cids = answer.type === "ack"
          ? (answer.result as { list: { cid: string }[] }).list.map((row) => row.cid)
          : [];
        last = JSON.stringify({ cids, ada: ada.user!.cid, oldCid });
        return cids.length === 1 && cids[0] === ada.user!.cid;
      }, { timeout: 15_000, message: "the room to hold Ada's live connection only" });
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${last}`);
    } finally {
      await carol.close();
      await ada.closeRealtime();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
