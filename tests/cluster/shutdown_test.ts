import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import { kvEntries } from "../_helpers/cluster.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

Deno.test("SIGTERM: clients are told to reconnect, presence is cleared, the server exits", async () => {
  const kvDir = await Deno.makeTempDir({ prefix: "parley-shutdown-" });
  const kvPath = `${kvDir}/kv.sqlite3`;
  const app = await startApp({ kvPath });
  const seen: RealtimeCallbackEvent[] = [];
  const clients = [new RealtimeClient({ url: app.wsUrl }), new RealtimeClient({ url: app.wsUrl })];
  try {
    for (const client of clients) {
      await client.connectRealtime((event) => seen.push(event));
      await client.joinRealtime({ group: "g" });
    }
    assert.equal((await kvEntries(kvPath, ["parley", "conn"])).length, 2);

    Deno.kill(app.pid, "SIGTERM");
    const started = Date.now();
    await waitFor(() => {
      try {
        Deno.kill(app.pid, "SIGCONT"); // still running?
        return false;
      } catch {
        return true; // exited
      }
    }, { timeout: 5_000, message: "the server to exit" }).catch(() => {}); // asserted below
    assert.ok(Date.now() - started < 5_000, "exited before Deploy's SIGKILL would come");
    const reconnecting = () => seen.filter((e) => e.type === "reconnect" && e.attempt === 1).length;
    await waitFor(() => reconnecting() >= 2, { timeout: 3_000 }).catch(() => {}); // asserted below
    assert.equal(reconnecting(), 2, "both clients were told and are reconnecting");
    assert.deepEqual(await kvEntries(kvPath, ["parley", "conn"]), [], "presence cleared");
    assert.deepEqual(await kvEntries(kvPath, ["parley", "member"]), []);
    assert.deepEqual(await kvEntries(kvPath, ["parley", "isolate"]), []);
  } finally {
    await Promise.all(clients.map((c) => c.closeRealtime()));
    await app.stop();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
});
