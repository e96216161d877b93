/**
 * The room cap holds across isolates: joins race on two isolates of
 * `deno serve --parallel`, and the counter's versionstamp, checked in each
 * join's commit, admits exactly the cap.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { UserRow } from "../../lib/protocol/mod.ts";
import { CLUSTER_ENV, spread } from "../_helpers/cluster.ts";
import { startApp } from "../_helpers/server.ts";

Deno.test("40 concurrent joins over 2 isolates with a cap of 5: exactly 5 in, 35 ROOM_FULL", async () => {
  await using app = await startApp({
    cluster: true,
    env: { ...CLUSTER_ENV, PARLEY_MAX_USERS_PER_ROOM: "5" },
  });
  const [left, right] = await spread(app.wsUrl, 20, { ignoreNotices: true });
  const clients = [...left, ...right];
  assert.equal(clients.length, 40);
  assert.notEqual(left[0].welcome.isolate, right[0].welcome.isolate, "two isolates");
  const answers = await Promise.all(
    clients.map((client) => client.request({ type: "join", group: "capped" }, 20_000)),
  );
  const codes = answers.map((a) => a.type === "ack" ? "ack" : (a as { code: string }).code);
  assert.equal(codes.filter((c) => c === "ack").length, 5, codes.join(" "));
  assert.equal(codes.filter((c) => c === "ROOM_FULL").length, 35, codes.join(" "));
  const refusal = answers.find((a) => a.type === "error") as { message: string };
  assert.match(refusal.message, /Cannot join room "capped" as it has 5 users/);
  // Presence agrees, from either isolate.
  for (const asker of [left[0], right[0]]) {
    const listed = await asker.request({ type: "users", group: "capped", limit: 100 });
    const rows = (listed as { result: { list: UserRow[] } }).result.list;
    assert.equal(rows.length, 5);
  }
  await Promise.all(clients.map((c) => c.close()));
});
