import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import { freePort, startApp } from "../_helpers/server.ts";

async function until(check: () => boolean, message: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("SIGKILL mid-session, restart on the same KV: everyone back in their group within 5 s, no ghosts", async () => {
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
    await until(() => clients.every((c) => c.skapi.state === "reconnecting"), "all noticed");

    await using _second = await startApp({ kvPath, port, env });
    const up = Date.now();
    await until(
      () => clients.every((c) => c.skapi.state === "connected"),
      "everyone reconnected",
      10_000,
    );
    const back = Date.now() - up;
    console.log(`all ${clients.length} clients back ${back} ms after the server was up`);
    assert.ok(back <= 5_000, `back within 5 s of the server being up (took ${back} ms)`);
    assert.deepEqual(clients.map((c) => c.skapi.user!.cid), cids, "same cids: resumed");
    assert.ok(
      clients.every((c) => c.seen.some((e) => e.type === "success" && e.resumed)),
    );

    const [ada] = clients;
    const inG = await ada.skapi.getRealtimeUsers({ group: "g" });
    assert.deepEqual(inG.list.map((u) => u.cid).sort(), [cids[0], cids[1]].sort(), "g exact");
    const groups = await ada.skapi.getRealtimeGroups();
    assert.deepEqual(groups.list, [
      { group: "g", number_of_users: 2 },
      { group: "h", number_of_users: 1 },
    ], "no ghosts");
    for (const { seen } of clients) {
      const churn = seen.filter((e) => e.type === "notice" && e.code !== "USER_JOINED");
      assert.deepEqual(churn, [], "nobody saw anyone leave");
    }
    // Messages flow again, in the same group.
    await ada.skapi.postRealtime("after the restart");
    await until(() => clients[1].seen.some((e) => e.type === "message"), "bob got it");
  } finally {
    await Promise.all(clients.map((c) => c.skapi.closeRealtime()));
    await first.stop();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
});
