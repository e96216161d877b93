import assert from "node:assert/strict";
import type { GroupRow, Page, UserRow } from "../../lib/protocol/mod.ts";
import type { RawClient } from "../_helpers/hub.ts";
import { CLUSTER_ENV, kvEntries, spread } from "../_helpers/cluster.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

const GROUPS = ["g0", "g1", "g2", "g3", "g4"];

async function users(client: RawClient, group: string): Promise<string[]> {
  const ack = await client.request({ type: "users", group, limit: 1000 });
  return (ack as { result: Page<UserRow> }).result.list.map((row) => row.cid).sort();
}

async function groups(client: RawClient): Promise<GroupRow[]> {
  const ack = await client.request({ type: "groups", limit: 1000 });
  return (ack as { result: Page<GroupRow> }).result.list;
}

Deno.test("presence is exact after 500 joins and leaves racing across isolates", async () => {
  await using app = await startApp({ cluster: true, env: CLUSTER_ENV });
  const [left, right] = await spread(app.wsUrl, 25, { ignoreNotices: true });
  const clients = [...left, ...right];
  // Each client makes 10 moves (join a group, switch, or leave), all clients at once.
  const finalGroup = new Map<RawClient, string | null>();
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const plans = clients.map((client) => {
    const moves = Array.from({ length: 10 }, () => {
      const pick = Math.floor(random() * (GROUPS.length + 1));
      return pick === GROUPS.length ? null : GROUPS[pick];
    });
    finalGroup.set(client, moves.at(-1)!);
    return { client, moves };
  });
  const started = performance.now();
  await Promise.all(plans.map(async ({ client, moves }) => {
    for (const group of moves) {
      const ack = await client.request({ type: "join", group }, 20_000);
      assert.equal(ack.type, "ack", JSON.stringify(ack));
    }
  }));
  console.log(
    `500 joins and leaves on 2 isolates in ${Math.round(performance.now() - started)} ms`,
  );

  // Every group lists exactly its members, asked from either isolate.
  const expected = new Map(GROUPS.map((g) => [g, [] as string[]]));
  for (const [client, group] of finalGroup) {
    if (group !== null) expected.get(group)!.push(client.welcome.cid);
  }
  for (const asker of [left[0], right[0]]) {
    for (const group of GROUPS) {
      assert.deepEqual(await users(asker, group), expected.get(group)!.sort(), group);
    }
    assert.deepEqual(
      await groups(asker),
      GROUPS.filter((g) => expected.get(g)!.length > 0).map((g) => ({
        group: g,
        number_of_users: expected.get(g)!.length,
      })),
    );
  }

  // All leave: presence empties, every inbox is consumed. A leave that KV refused (the
  // isolates' commits race on one SQLite file) is repaired a second later: the bound allows one.
  await Promise.all(clients.map((c) => c.close()));
  const emptied = async (prefix: Deno.KvKey, what: string) => {
    try {
      await waitFor(async () => (await kvEntries(app.kvPath, prefix)).length === 0, {
        timeout: 20_000,
        message: what,
      });
    } catch (error) {
      const left = (await kvEntries(app.kvPath, prefix)).map((e) => JSON.stringify(e.key));
      throw new Error(
        `${(error as Error).message}; left: ${left.slice(0, 5).join(", ")} (${left.length}); ` +
          `the app said: ${app.output().slice(-2_000)}`,
      );
    }
  };
  await emptied(["parley", "conn"], "no connection left in presence");
  // A group's counter is dropped just after its last leave commits: wait for that step too.
  for (const prefix of [["parley", "member"], ["parley", "group"], ["parley", "user"]]) {
    await emptied(prefix, `${prefix.join("/")} empty`);
  }
  await emptied(["parley", "inbox"], "every inbox consumed");
});
