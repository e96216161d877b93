import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import { freePort } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

// A SIGKILL takes the resume logs with it: nobody can vouch that a client got
// every frame it was sent, so the clients start afresh (told so by
// `missedMessages`; new sessions under the same cids) rather than resume with
// a possible gap (see tests/server/crash_resume_test.ts); their rooms see
// them leave and join.
Deno.test("SIGKILL mid-session, restart on the same KV: everyone back in their group within 5 s, honestly fresh, no ghosts", async () => {
  const kvDir = await Deno.makeTempDir({ prefix: "parley-restart-" });
  const kvPath = `${kvDir}/kv.sqlite3`;
  const port = freePort();
  const env = { PARLEY_RESUME_GRACE_MS: "20000" };
  const first = await startApp({ kvPath, port, env });
  const clients: Array<{ skapi: RealtimeClient; seen: RealtimeCallbackEvent[]; group: string }> =
    [];
  try {
    for (const [name, group] of [["ada", "g"], ["bob", "g"], ["cy", "h"]]) {
      const seen: RealtimeCallbackEvent[] = [];
      const skapi = new RealtimeClient({ url: first.wsUrl, name });
      await skapi.connectRealtime((event) => seen.push(event));
      await skapi.joinRealtime({ group });
      clients.push({ skapi, seen, group });
    }
    const cids = clients.map((c) => c.skapi.user!.cid);

    Deno.kill(first.pid, "SIGKILL");
    await first.stop();
    await waitFor(() => clients.every((c) => c.skapi.state === "reconnecting"), {
      message: "all noticed",
      timeout: 15_000,
    });

    await using _second = await startApp({ kvPath, port, env });
    const up = Date.now();
    // The second success comes once the fresh connection has rejoined its group.
    await waitFor(
      () => clients.every((c) => c.seen.filter((e) => e.type === "success").length === 2),
      { message: "everyone reconnected", timeout: 10_000 },
    );
    const back = Date.now() - up;
    console.log(`all ${clients.length} clients back ${back} ms after the server was up`);
    assert.ok(back <= 5_000, `back within 5 s of the server being up (took ${back} ms)`);
    for (const { seen } of clients) {
      const back = seen.filter((e) => e.type === "success").at(-1);
      assert.ok(back?.type === "success" && back.missedMessages, "told it may have missed some");
      assert.ok(!back.resumed, "never resumed with a possible gap");
    }
    const fresh = clients.map((c) => c.skapi.user!.cid);
    assert.deepEqual(fresh, cids, "fresh sessions under the same cids (calls signal to them)");

    const [ada] = clients;
    const inG = await ada.skapi.getRealtimeUsers({ group: "g" });
    assert.deepEqual(inG.list.map((u) => u.cid).sort(), [fresh[0], fresh[1]].sort(), "g exact");
    const groups = await ada.skapi.getRealtimeGroups();
    assert.deepEqual(groups.list, [
      { group: "g", number_of_users: 2 },
      { group: "h", number_of_users: 1 },
    ], "no ghosts");
    // Messages flow again, in the same group.
    await ada.skapi.postRealtime("after the restart");
    await waitFor(() => clients[1].seen.some((e) => e.type === "message"), {
      message: "bob got it",
      timeout: 15_000,
    });
  } finally {
    await Promise.all(clients.map((c) => c.skapi.closeRealtime()));
    await first.stop();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
});
