import assert from "node:assert/strict";
import type { Page, UserRow } from "../../lib/protocol/mod.ts";
import { Presence } from "../../lib/server/presence.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";

const who = (n: number) => ({
  cid: `cid:${String(n).padStart(22, "0")}`,
  user_id: crypto.randomUUID(),
  name: `u${n}`,
});

Deno.test("2,500 connections in KV list as 3 pages of up to 1,000, each exactly once", async () => {
  const kv = await Deno.openKv(":memory:");
  const presence = new Presence(kv, "iso-test");
  const people = Array.from({ length: 2500 }, (_, n) => who(n));
  await Promise.all(people.map(async (person) => {
    await presence.connect(person);
    await presence.move(person, null, "big");
  }));
  const pages = [];
  let startKey: string | undefined;
  do {
    const page = await presence.listUsers({ group: "big", limit: 1000, startKey });
    pages.push(page);
    startKey = page.startKey;
  } while (!pages.at(-1)!.endOfList);
  assert.deepEqual(pages.map((p) => p.list.length), [1000, 1000, 500]);
  assert.equal(pages.at(-1)!.startKey, "end");
  const listed = pages.flatMap((p) => p.list.map((row) => row.cid));
  assert.deepEqual(listed, people.map((p) => p.cid), "every connection once, in cid order");
  assert.deepEqual((await presence.listGroups({})).list, [{ group: "big", number_of_users: 2500 }]);
  kv.close();
});

Deno.test("users pages through the endpoint: 250 sockets as 100 + 100 + 50", async () => {
  await using server = await startHub();
  const clients = await Promise.all(
    Array.from({ length: 250 }, () => rawClient(server.url, {}, { ignoreNotices: true })),
  );
  await Promise.all(clients.map((c) => c.request({ type: "join", group: "big" }, 30_000)));
  const pages = [];
  let startKey: string | undefined;
  do {
    const ack = await clients[0].request(
      { type: "users", group: "big", limit: 100, startKey },
      30_000,
    );
    const page = (ack as { result: Page<UserRow> }).result;
    pages.push(page);
    startKey = page.startKey;
  } while (!pages.at(-1)!.endOfList);
  assert.deepEqual(pages.map((p) => p.list.length), [100, 100, 50]);
  const listed = new Set(pages.flatMap((p) => p.list.map((row) => row.cid)));
  assert.deepEqual(listed, new Set(clients.map((c) => c.welcome.cid)));
  await Promise.all(clients.map((c) => c.close()));
});

Deno.test("pages run backwards with ascending: false and filter by user_id", async () => {
  const kv = await Deno.openKv(":memory:");
  const presence = new Presence(kv, "iso-test");
  const people = Array.from({ length: 5 }, (_, n) => who(n));
  for (const person of people) {
    await presence.connect(person);
    await presence.move(person, null, "room");
  }
  const first = await presence.listUsers({ group: "room", limit: 2, ascending: false });
  assert.deepEqual(first.list.map((r) => r.name), ["u4", "u3"]);
  const second = await presence.listUsers({
    group: "room",
    limit: 2,
    ascending: false,
    startKey: first.startKey,
  });
  assert.deepEqual(second.list.map((r) => r.name), ["u2", "u1"]);
  const only = await presence.listUsers({ group: "room", user_id: people[3].user_id });
  assert.deepEqual(only, {
    list: [{ user_id: people[3].user_id, cid: people[3].cid, name: "u3" }],
    startKey: "end",
    endOfList: true,
  });
  kv.close();
});

Deno.test("group counts follow joins, switches and disconnects; empty groups vanish", async () => {
  const kv = await Deno.openKv(":memory:");
  const presence = new Presence(kv, "iso-test");
  const [a, b, c] = [who(1), who(2), who(3)];
  for (const person of [a, b, c]) await presence.connect(person);
  await presence.move(a, null, "alpha");
  await presence.move(b, null, "alpha");
  await presence.move(c, null, "beta");
  assert.deepEqual((await presence.listGroups({})).list, [
    { group: "alpha", number_of_users: 2 },
    { group: "beta", number_of_users: 1 },
  ]);
  await presence.move(c, "beta", "alpha");
  await presence.disconnect(a, "alpha");
  assert.deepEqual((await presence.listGroups({})).list, [{ group: "alpha", number_of_users: 2 }]);
  assert.equal((await kv.get(["parley", "group", "beta"])).value, null, "beta's counter is gone");
  assert.equal(await presence.lookup(a.cid), null);
  assert.deepEqual(await presence.connectionsOf(b.user_id), [{ cid: b.cid, isolate: "iso-test" }]);
  kv.close();
});

Deno.test("groups search as in Skapi: exact without a condition, '>=' on a name is a prefix", async () => {
  const kv = await Deno.openKv(":memory:");
  const presence = new Presence(kv, "iso-test");
  const sizes: Record<string, number> = {
    "Hello World": 1,
    "HelloWorld": 3,
    "team": 1,
    "team-b": 2,
    "zoo": 2,
  };
  let n = 0;
  for (const [group, size] of Object.entries(sizes)) {
    for (let i = 0; i < size; i++) {
      const person = who(n++);
      await presence.connect(person);
      await presence.move(person, null, group);
    }
  }
  const names = async (query: Parameters<Presence["listGroups"]>[0]) =>
    (await presence.listGroups(query)).list.map((row) => row.group);
  const all = ["Hello World", "HelloWorld", "team", "team-b", "zoo"];
  assert.deepEqual(await names({}), all);
  // Skapi's own defaults: `value: " "` with `>` lists everything.
  assert.deepEqual(await names({ searchFor: "group", value: " ", condition: ">" }), all);
  assert.deepEqual(await names({ value: "team" }), ["team"], "no condition: exact match");
  assert.deepEqual(await names({ value: "team", condition: "=" }), ["team"]);
  assert.deepEqual(await names({ value: "Hello", condition: ">=" }), ["Hello World", "HelloWorld"]);
  assert.deepEqual(await names({ value: "team", condition: "gte" }), ["team", "team-b"]);
  assert.deepEqual(await names({ value: "team", condition: ">" }), ["team-b", "zoo"]);
  assert.deepEqual(await names({ value: "team", condition: "!=" }), [
    "Hello World",
    "HelloWorld",
    "team-b",
    "zoo",
  ]);
  assert.deepEqual(await names({ value: "team", range: "team-z" }), ["team", "team-b"]);
  assert.deepEqual(
    await names({ searchFor: "number_of_users", value: 2, condition: ">=" }),
    ["HelloWorld", "team-b", "zoo"],
  );
  assert.deepEqual(await names({ searchFor: "number_of_users", value: 1 }), [
    "Hello World",
    "team",
  ]);
  const page = await presence.listGroups({ limit: 1, value: "team", condition: ">=" });
  assert.deepEqual(page, {
    list: [{ group: "team", number_of_users: 1 }],
    startKey: "team",
    endOfList: false,
  });
  kv.close();
});

Deno.test("empty rooms' counters go even when a join gets into one of them meanwhile", async () => {
  const base = await Deno.openKv(":memory:");
  let interfered = false;
  // The first commit that checks two counters finds one changed: a join elsewhere got in.
  const kv = new Proxy(base, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          let checks = 0;
          const check = op.check.bind(op);
          op.check = (...entries) => {
            checks += entries.length;
            return check(...entries);
          };
          const commit = op.commit.bind(op);
          op.commit = async () => {
            if (checks >= 2 && !interfered) {
              interfered = true;
              await target.atomic().sum(["parley", "group", "a"], 1n).commit();
            }
            return commit();
          };
          return op;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const presence = new Presence(kv, "iso-here");
  const [inA, inB] = [1, 2].map(who);
  await presence.connect(inA);
  await presence.move(inA, null, "a");
  await presence.connect(inB);
  await presence.move(inB, null, "b");
  await Promise.all([presence.disconnect(inA, "a"), presence.disconnect(inB, "b")]);
  assert.ok(
    interfered,
    "the two counters were dropped in one checked commit (else this proves nothing)",
  );
  assert.equal((await base.get(["parley", "group", "b"])).value, null, "b's zero counter is gone");
  assert.equal((await base.get<Deno.KvU64>(["parley", "group", "a"])).value?.value, 1n);
  base.close();
});
