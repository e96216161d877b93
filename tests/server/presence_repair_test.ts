/**
 * Presence repairs itself: a clean leave while another process holds the KV
 * file's write lock is retried, then fails ("database is locked") when the
 * lock outlasts the retries; the room is told at once, and the failed leave
 * asks for an early repair (a second after, backing off while KV fails), so
 * the stale record, its membership and its count go soon after the lock
 * ends — not at the next round of the reconcile timer
 * (`PARLEY_PRESENCE_REPAIR_MS`, 60 s by default), and with no restart.
 * Then the repair itself, on a KV of its own: the failed leaves' records
 * (read alone), and the check of every record.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { Presence } from "../../lib/server/presence.ts";
import { PresenceUnavailableError } from "../../lib/server/presence_commits.ts";
import { PresenceRepair } from "../../lib/server/presence_repair.ts";
import { failingKv } from "../_helpers/failing_kv.ts";
import { lockKv } from "../_helpers/faults.ts";
import { rawClient } from "../_helpers/hub.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

/**
 * The promise: a failed leave is repaired within this long after KV works
 * again (the early repair waits at most 15 s between tries); far below the
 * reconcile timer's 60 s.
 */
const REPAIR_BOUND_MS = 15_000;
/** Longer than the leave's own retries (3 tries of SQLite's 5 s busy timeout). */
const LOCK_MS = 17_000;

Deno.test("a leave that KV refused is repaired within the bound, with no restart", async () => {
  await using app = await startApp();
  const stayer = await rawClient(app.wsUrl, { name: "stayer" });
  const leaver = await rawClient(app.wsUrl, { name: "leaver" });
  try {
    for (const client of [stayer, leaver]) {
      assert.equal((await client.request({ type: "join", group: "repair" })).type, "ack");
    }
    const members = async () => {
      const answer = await stayer.request({ type: "users", group: "repair" });
      assert.equal(answer.type, "ack");
      return (answer as Extract<ServerFrame, { type: "ack" }>).result as { list: unknown[] };
    };
    const roomCount = async () => {
      const page = await fetch(`${app.url}/api/rooms`).then((r) => r.json());
      return page.list.find((row: { group: string }) => row.group === "repair")?.number_of_users;
    };
    assert.equal((await members()).list.length, 2);

    const lock = await lockKv(app.kvPath, LOCK_MS);
    const from = stayer.frames.length;
    leaver.send({ type: "bye" });
    await leaver.closed;
    // The room hears of it at once, KV or not.
    await stayer.next(
      (f) => f.type === "notice" && f.code === "USER_DISCONNECTED",
      5_000,
      from,
    );
    await waitFor(() => /cannot remove connection/.test(app.output()), {
      timeout: LOCK_MS,
      message: "the leave to fail under the lock (else this test proves nothing)",
    });
    await lock.release();
    const unlocked = Date.now();
    await waitFor(async () => (await members()).list.length === 1 && await roomCount() === 1, {
      timeout: REPAIR_BOUND_MS,
      message: "the stale member to be repaired away",
    });
    console.log(`repaired ${Date.now() - unlocked} ms after the lock ended`);
    assert.match(app.output(), /repaired 1 stale record/);
  } finally {
    await Promise.all([stayer.close(), leaver.close()]);
  }
});

// --- the repair itself (PresenceRepair), on an in-memory KV ---

const who = (n: number) => ({
  cid: `cid:${String(n).padStart(22, "0")}`,
  user_id: crypto.randomUUID(),
  name: `u${n}`,
});

Deno.test("reconcile removes this isolate's records of dead connections, with their counts", async () => {
  const kv = await Deno.openKv(":memory:");
  const here = new Presence(kv, "iso-here");
  const there = new Presence(kv, "iso-there");
  const [live, stale, writing, elsewhere] = [1, 2, 3, 4].map(who);
  for (
    const [presence, person] of [[here, live], [here, stale], [here, writing], [
      there,
      elsewhere,
    ]] as const
  ) {
    await presence.connect(person);
    await presence.move(person, null, "room");
  }
  const repair = new PresenceRepair(here, (cid) => cid === live.cid, 3_600_000);
  // A leave under way (its write chained) is left to itself, not removed twice.
  const leaving = here.disconnect(writing, "room");
  const removed = await repair.reconcile();
  await leaving;
  assert.equal(removed, 1, "only the stale record");
  const members = (await here.listUsers({ group: "room" })).list.map((row) => row.cid).sort();
  assert.deepEqual(members, [live.cid, elsewhere.cid].sort(), "another isolate's are not touched");
  assert.deepEqual((await here.listGroups({})).list, [{ group: "room", number_of_users: 2 }]);
  assert.equal(await repair.reconcile(), 0, "nothing left to repair");
  await repair.close();
  kv.close();
});

Deno.test("a leave KV refused is repaired from its own record, with no scan of the others", async () => {
  const base = await Deno.openKv(":memory:");
  const faulty = failingKv(base, ["parley", "conn"], { deletes: true });
  let lists = 0;
  const kv = new Proxy(faulty.kv, {
    get(target, property) {
      if (property === "list") lists++;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const presence = new Presence(kv, "iso-here");
  const [gone, stays] = [1, 2].map(who);
  for (const person of [gone, stays]) {
    await presence.connect(person);
    await presence.move(person, null, "room");
  }
  faulty.fail = true;
  const repair = new PresenceRepair(presence, (cid) => cid === stays.cid, 3_600_000);
  // As the sessions do when a leave fails (the early repair's timer is a second away).
  await assert.rejects(presence.disconnect(gone, "room"), PresenceUnavailableError);
  repair.leaveFailed(gone.cid);
  assert.equal(repair.pending, 1);
  await assert.rejects(repair.repairLeaves(), /database is locked/);
  assert.equal(repair.pending, 1, "kept for the next pass while KV fails");

  faulty.fail = false;
  const listsBefore = lists;
  assert.equal(await repair.repairLeaves(), 1);
  assert.equal(lists, listsBefore, "no record but the failed leave's was read");
  assert.equal(repair.pending, 0);
  const members = (await presence.listUsers({ group: "room" })).list.map((row) => row.cid);
  assert.deepEqual(members, [stays.cid]);
  assert.deepEqual((await presence.listGroups({})).list, [{ group: "room", number_of_users: 1 }]);
  assert.equal(await repair.repairLeaves(), 0, "nothing left to repair");
  await repair.close();
  base.close();
});
