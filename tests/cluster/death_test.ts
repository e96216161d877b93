import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { rawClient } from "../_helpers/hub.ts";
import { CLUSTER_ENV, kvEntries, spread } from "../_helpers/cluster.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

/** The dead cluster's isolates count as alive this long after their last beat. */
const OLD_TTL_MS = 4_000;

Deno.test("a cluster killed with SIGKILL: the next one on its KV removes its connections and tells their groups", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-death-" });
  const kvPath = `${dir}/kv.sqlite3`;
  try {
    const old = await startApp({
      cluster: true,
      kvPath,
      env: { ...CLUSTER_ENV, PARLEY_ISOLATE_TTL_MS: String(OLD_TTL_MS) },
    });
    const [onX, onY] = await spread(old.wsUrl, 3, { ignoreNotices: true });
    const doomed = [...onX, ...onY];
    await Promise.all(doomed.map((c) => c.request({ type: "join", group: "room" })));
    assert.equal((await kvEntries(kvPath, ["parley", "conn"])).length, 6);
    assert.equal((await kvEntries(kvPath, ["parley", "isolate"])).length, 2);

    Deno.kill(old.pid, "SIGKILL");
    const killed = Date.now();
    await old.stop();
    // KV still holds the dead cluster's connections and isolate records.
    assert.equal((await kvEntries(kvPath, ["parley", "conn"])).length, 6);

    await using fresh = await startApp({
      cluster: true,
      kvPath,
      env: { ...CLUSTER_ENV, PARLEY_ISOLATE_TTL_MS: "1000" },
    });
    // A watcher joins while the dead isolates' deadlines still hold.
    const watcher = await rawClient(fresh.wsUrl);
    await watcher.request({ type: "join", group: "room" });
    assert.ok(Date.now() - killed < OLD_TTL_MS, "the watcher joined before the deadlines passed");
    const disconnected = () =>
      watcher.frames.filter((f): f is Notice =>
        f.type === "notice" && f.code === "USER_DISCONNECTED"
      );
    await waitFor(() => disconnected().length >= doomed.length, {
      timeout: 30_000,
      message: "USER_DISCONNECTED for each dead connection",
    });
    const bound = Date.now() - killed;
    console.log(`dead connections removed and announced ${bound} ms after SIGKILL`);
    assert.ok(bound < 30_000);
    await new Promise((r) => setTimeout(r, 500)); // no second sweep
    assert.deepEqual(
      disconnected().map((f) => f.sender_cid).sort(),
      doomed.map((c) => c.welcome.cid).sort(),
    );
    const users = await watcher.request({ type: "users", group: "room" });
    assert.deepEqual(
      (users as { result: { list: { cid: string }[] } }).result.list.map((r) => r.cid),
      [watcher.welcome.cid],
    );
    // Only the new cluster's records remain; the dead isolates' inboxes are gone.
    const isolates = (await kvEntries(kvPath, ["parley", "isolate"])).map((e) => e.key[2]);
    assert.ok(
      !isolates.includes(onX[0].welcome.isolate) && !isolates.includes(onY[0].welcome.isolate),
    );
    assert.deepEqual(
      (await kvEntries(kvPath, ["parley", "conn"])).map((e) => e.key[2]),
      [watcher.welcome.cid],
    );
    await watcher.close();
    await waitFor(async () => (await kvEntries(kvPath, ["parley", "inbox"])).length === 0, {
      message: "every inbox consumed or removed",
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
