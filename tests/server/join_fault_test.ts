import assert from "node:assert/strict";
import { PRESENCE_KEYS } from "../../lib/server/presence.ts";
import { failingKv } from "../_helpers/failing_kv.ts";
import { type RawClient, rawClient, startHub } from "../_helpers/hub.ts";

const listOf = async (client: RawClient) => {
  const answer = await client.request({ type: "users", group: "room" }, 5_000);
  assert.equal(answer.type, "ack", JSON.stringify(answer));
  return (answer as { result: { list: unknown[] } }).result.list;
};

// A join's commit that KV keeps refusing (a long SQLite lock) once left the
// capped room's batch unanswered: the join hung, and with it every later
// request of that connection. Each must be answered, typed, and the room
// must take joins again once KV is back.
Deno.test("joins whose commit KV refuses are answered UNAVAILABLE; the next ones land", async () => {
  const faulty = failingKv(await Deno.openKv(":memory:"), PRESENCE_KEYS.members("room"));
  await using server = await startHub({ kv: faulty.kv, security: { maxUsersPerRoom: 50 } });
  const clients = await Promise.all(
    Array.from({ length: 5 }, () => rawClient(server.url, {}, { ignoreNotices: true })),
  );
  try {
    faulty.fail = true;
    const refused = await Promise.all(
      clients.map((c) => c.request({ type: "join", group: "room" }, 10_000)),
    );
    assert.ok(faulty.failed > 0, "the joins' commits were refused");
    for (const answer of refused) {
      assert.ok(answer.type === "error" && answer.code === "UNAVAILABLE", JSON.stringify(answer));
    }
    // The connections' queues are not wedged: a request after the join is answered.
    assert.deepEqual(await listOf(clients[0]), [], "nobody joined");

    faulty.fail = false;
    await Promise.all(clients.map((c) => c.request({ type: "join", group: "room" }, 10_000)));
    assert.equal((await listOf(clients[0])).length, 5, "all five joined");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});
