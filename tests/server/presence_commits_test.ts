/**
 * Group commits of presence writes: many writes per KV commit, each
 * caller's promise settled by the commit that carries its write; the room
 * cap exact under concurrent joins; a failing KV fails the callers of its
 * batch (typed) and not the writes after it. Real in-memory Deno KV,
 * wrapped only to count (or break) commits.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Presence, PRESENCE_KEYS } from "../../lib/server/presence.ts";
import {
  type GroupWrite,
  keyBytes,
  PRESENCE_COMMIT_LIMITS,
  PresenceUnavailableError,
  takeBatch,
} from "../../lib/server/presence_commits.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";

const who = (n: number) => ({
  cid: `cid:${String(n).padStart(22, "0")}`,
  user_id: crypto.randomUUID(),
  name: `u${n}`,
});

/**
 * A real KV that counts its commits, holds them while `hold` is set, and
 * throws `failWith` from the next `failures` of them.
 */
function countingKv(kv: Deno.Kv) {
  const state = {
    kv,
    commits: 0,
    failures: 0,
    failWith: new Error("unset") as Error,
    hold: null as Promise<void> | null,
  };
  state.kv = new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = async () => {
            if (state.hold) await state.hold;
            if (state.failures > 0) {
              state.failures--;
              return Promise.reject(state.failWith);
            }
            state.commits++;
            return commit();
          };
          return op;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return state;
}

const write = (key: string, extra: Partial<GroupWrite> = {}): GroupWrite => ({
  mutations: [{ type: "set", key: ["k", key], value: "v" }],
  counts: [],
  attempts: 1,
  ...extra,
});

Deno.test("a batch keeps to the mutation and key-size limits, in order", () => {
  const queue = Array.from({ length: 30 }, (_, i) => write(`w${i}`));
  const limits = { ...PRESENCE_COMMIT_LIMITS, mutations: 10 };
  assert.deepEqual(takeBatch(queue, limits), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const bytes = keyBytes(["k", "w10"]);
  assert.deepEqual(takeBatch(queue, { ...limits, keyBytes: 3 * bytes }), [0, 1, 2]);
  // One counter for many writes is one mutation.
  const counted = queue.map((w) => ({ ...w, counts: [[["c"], 1n]] as GroupWrite["counts"] }));
  assert.equal(takeBatch(counted, limits).length, 9, "nine sets and the one sum");
  // A write alone is always tried, even over the limits (KV then says why).
  assert.deepEqual(takeBatch(queue, { ...limits, keyBytes: 1 }), [0]);
});

Deno.test("a batch checks at most `checks` rooms, and skips all of a room's joins beyond them", () => {
  const capped = (room: string) => write(room, { cap: { key: ["room", room], limit: 5 } });
  const queue = [capped("a"), capped("b"), capped("c"), write("free"), capped("a"), capped("c")];
  assert.deepEqual(takeBatch(queue, { ...PRESENCE_COMMIT_LIMITS, checks: 2 }), [0, 1, 3, 4]);
});

Deno.test("1,000 concurrent connects and joins go out in few commits; each settled join is listed", async () => {
  const counting = countingKv(await Deno.openKv(":memory:"));
  const presence = new Presence(counting.kv, "iso-test");
  const people = Array.from({ length: 1000 }, (_, n) => who(n));
  let unlisted = 0;
  await Promise.all(people.map(async (person) => {
    await presence.connect(person);
    assert.equal(await presence.move(person, null, "storm", 1_000_000), true);
    // Settled means committed: the member is in KV now.
    const member = await counting.kv.get(PRESENCE_KEYS.member("storm", person.cid));
    if (member.value === null) unlisted++;
  }));
  assert.equal(unlisted, 0, "every join was listed once its promise settled");
  // 2,000 writes, one commit each before; a commit takes up to 1,000 mutations or ~76 KB of keys.
  console.log(`1,000 connects and 1,000 joins: ${counting.commits} commits`);
  assert.ok(counting.commits <= 20, `${counting.commits} commits for 2,000 writes`);
  const page = await presence.listUsers({ group: "storm", limit: 1000 });
  assert.equal(page.list.length, 1000);
  assert.deepEqual((await presence.listGroups({})).list, [{
    group: "storm",
    number_of_users: 1000,
  }]);
  // Leaves batch too; the emptied room's counter goes.
  const before = counting.commits;
  await Promise.all(people.map((person) => presence.disconnect(person, "storm")));
  assert.ok(
    counting.commits - before <= 10,
    `${counting.commits - before} commits for 1,000 leaves`,
  );
  assert.equal((await counting.kv.get(PRESENCE_KEYS.group("storm"))).value, null);
  assert.equal((await presence.listUsers({ group: "storm" })).list.length, 0);
  counting.kv.close();
});

/**
 * A KV on which, after each of the first `races` counter reads, another
 * isolate's join gets in (into the first room read) before the reader commits.
 */
function racedKv(kv: Deno.Kv, other: Presence, cap: number, races: number) {
  const state = { kv, refusedChecks: 0, racers: [] as string[] };
  state.kv = new Proxy(kv, {
    get(target, property) {
      if (property === "getMany") {
        return async (keys: Deno.KvKey[]) => {
          const entries = await target.getMany(keys);
          if (state.racers.length < races && keys[0]?.[1] === "group") {
            const racer = who(10_000 + state.racers.length);
            await other.connect(racer);
            if (await other.move(racer, null, String(keys[0][2]), cap)) {
              state.racers.push(racer.cid);
            }
          }
          return entries;
        };
      }
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = async () => {
            const result = await commit();
            if (!result.ok) state.refusedChecks++;
            return result;
          };
          return op;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return state;
}

Deno.test("capped rooms under joins racing from another isolate admit exactly the cap, others unharmed", async () => {
  const kv = await Deno.openKv(":memory:");
  const cap = 7;
  const raced = racedKv(kv, new Presence(kv, "iso-b"), cap, 12);
  const presence = new Presence(raced.kv, "iso-a");
  const people = Array.from({ length: 600 }, (_, n) => who(n));
  await Promise.all(people.map((person) => presence.connect(person)));
  // 12 capped rooms (more than one commit checks), and uncapped joins mixed in.
  const roomOf = (n: number) => n % 3 === 0 ? "open" : `capped-${n % 12}`;
  const results = await Promise.all(people.map((person, n) => {
    const room = roomOf(n);
    return presence.move(person, null, room, room === "open" ? Infinity : cap);
  }));
  assert.ok(
    raced.refusedChecks > 0,
    "the other isolate's joins made checks fail (else this proves nothing)",
  );
  const admitted = new Map<string, number>();
  results.forEach((moved, n) => {
    if (moved) admitted.set(roomOf(n), (admitted.get(roomOf(n)) ?? 0) + 1);
  });
  assert.equal(admitted.get("open"), 200, "every uncapped join landed");
  const rows = (await presence.listGroups({})).list;
  // Rooms 0, 3, 6 and 9 (n % 12) get only uncapped joins' numbers: 8 capped rooms.
  assert.equal(rows.length, 9);
  for (const { group, number_of_users } of rows) {
    const listed = (await presence.listUsers({ group, limit: 1000 })).list;
    assert.equal(number_of_users, listed.length, `${group}: the counter agrees with the members`);
    if (group === "open") continue;
    assert.equal(listed.length, cap, `${group} holds exactly its cap, racers included`);
    const racers = listed.filter((row) => raced.racers.includes(row.cid)).length;
    assert.equal(admitted.get(group) ?? 0, cap - racers, `${group}: ours admitted up to the cap`);
  }
  assert.ok(raced.racers.length > 0);
  // Refused joins changed nothing: their records are in no group.
  for (const person of people.filter((_, n) => !results[n]).slice(0, 20)) {
    assert.equal((await presence.lookup(person.cid))?.group, null);
  }
  kv.close();
});

Deno.test("a KV failure fails its batch's callers typed; later writes still land", async () => {
  const counting = countingKv(await Deno.openKv(":memory:"));
  const presence = new Presence(counting.kv, "iso-test");
  const [a, b, c] = [who(1), who(2), who(3)];
  counting.failures = 1;
  counting.failWith = new Error("KV went away (injected)");
  const failed = await Promise.allSettled([presence.connect(a), presence.connect(b)]);
  for (const outcome of failed) {
    assert.equal(outcome.status, "rejected");
    const error = (outcome as PromiseRejectedResult).reason;
    assert.ok(error instanceof PresenceUnavailableError, String(error));
    assert.equal(error.code, "UNAVAILABLE");
  }
  // Not wedged: the next writes land.
  await presence.connect(c);
  assert.equal(await presence.move(c, null, "room", 10), true);
  assert.deepEqual((await presence.listUsers({ group: "room" })).list.map((r) => r.cid), [c.cid]);

  // A locked database: each write has its own tries. A leave gives up after 3, a join goes on.
  counting.failures = 4;
  counting.failWith = new TypeError("database is locked (injected)");
  const [leave, join] = await Promise.allSettled([
    presence.disconnect(c, "room"),
    presence.move(b, null, "room"),
  ]);
  assert.equal(leave.status, "rejected");
  assert.ok((leave as PromiseRejectedResult).reason instanceof PresenceUnavailableError);
  assert.deepEqual(join, { status: "fulfilled", value: true });
  const members = (await presence.listUsers({ group: "room" })).list.map((r) => r.cid).sort();
  assert.deepEqual(members, [b.cid, c.cid].sort(), "the leave that gave up is left to the repair");
  counting.kv.close();
});

Deno.test("welcomes share the commits of their records; a join's ack waits for its commit, messages do not", async () => {
  const counting = countingKv(await Deno.openKv(":memory:"));
  await using server = await startHub({ kv: counting.kv });
  const before = counting.commits;
  const clients = await Promise.all(Array.from({ length: 200 }, () => rawClient(server.url)));
  // Welcomed means recorded: another isolate can reach it through presence at once.
  const recorded = await Promise.all(clients.map((c) => server.hub.presence.lookup(c.welcome.cid)));
  assert.ok(recorded.every((record) => record !== null), "every welcomed connection is recorded");
  // Liveness beats commit too; 200 connects alone took 200 commits before.
  console.log(`200 connects: ${counting.commits - before} commits`);
  assert.ok(
    counting.commits - before < 60,
    `${counting.commits - before} commits for 200 connects`,
  );
  await Promise.all(clients.slice(2).map((c) => c.close()));

  const [alice, bob] = clients;
  let release = () => {};
  counting.hold = new Promise<void>((resolve) => release = resolve);
  try {
    let acked = false;
    const joined = bob.request({ type: "join", group: "held" }).then((answer) => {
      acked = true;
      return answer;
    });
    // While the join's commit waits, a private message goes through: it never waits on KV.
    const sent = alice.request({ type: "post", message: "hi", recipient: bob.welcome.user_id });
    await bob.next((f) => f.type === "private" && f.message === "hi", 5_000);
    assert.equal((await sent).type, "ack");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(acked, false, "no join ack before its commit");
    release();
    counting.hold = null;
    assert.equal((await joined).type, "ack");
    const listed = await alice.request({ type: "users", group: "held" });
    const rows = (listed as { result: { list: Array<{ cid: string }> } }).result.list;
    assert.deepEqual(rows.map((row) => row.cid), [bob.welcome.cid], "acked means listed");
  } finally {
    release();
    counting.hold = null;
    await Promise.all([alice.close(), bob.close()]);
  }
});

Deno.test("keyBytes: UTF-8 bytes plus an escape per zero byte, as KV encodes a string part", () => {
  const utf8 = (text: string) => new TextEncoder().encode(text).byteLength;
  for (const text of ["lobby", "é", "\0", "a\0b\0", "日本", "😀", "x😀é\0日"]) {
    const zeros = text.split("\0").length - 1;
    assert.equal(keyBytes([text]), 2 + utf8(text) + zeros, JSON.stringify(text));
  }
  assert.equal(keyBytes(["parley", "conn", "cid:a"]), 3 * 2 + 6 + 4 + 5);
});
