/**
 * Presence repairs itself: a clean leave while another process holds the KV
 * file's write lock is retried, then fails ("database is locked") when the
 * lock outlasts the retries; the room is told at once, and the failed leave
 * asks for an early repair (a second after, backing off while KV fails), so
 * the stale record, its membership and its count go soon after the lock
 * ends — not at the next round of the reconcile timer
 * (`PARLEY_PRESENCE_REPAIR_MS`, 60 s by default), and with no restart.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { lockKv } from "../_helpers/faults.ts";
import { rawClient } from "../_helpers/hub.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

/**
 * The promise: a failed leave is repaired within this long after KV works
 * again (the early repair's backoff is at most 8 s by then); far below the
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
