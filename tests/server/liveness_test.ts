import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { BUS_KEYS } from "../../lib/server/bus/mod.ts";
import { type IsolateRecord, LIVENESS_KEYS } from "../../lib/server/liveness.ts";
import { Presence } from "../../lib/server/presence.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

const ghost = (n: number) => ({
  cid: `cid:ghost${String(n).padStart(18, "0")}`,
  user_id: crypto.randomUUID(),
  name: `ghost ${n}`,
});

/** Leaves behind what an isolate killed with SIGKILL leaves: connections, an inbox, a record. */
async function deadIsolate(
  kv: Deno.Kv,
  iso: string,
  group: string,
  count: number,
  record: boolean,
) {
  const presence = new Presence(kv, iso);
  const ghosts = Array.from({ length: count }, (_, n) => ghost(n));
  for (const who of ghosts) {
    await presence.connect(who);
    await presence.move(who, null, group);
  }
  await kv.set(BUS_KEYS.entry(iso, "iso-x", 1, 0, 1), new Uint8Array(3));
  await kv.set(BUS_KEYS.head(iso), "iso-x:1");
  if (record) {
    const dead: IsolateRecord = { deadline: Date.now() - 1, since: Date.now() - 60_000 };
    await kv.set(LIVENESS_KEYS.isolate(iso), dead);
  }
  return ghosts;
}

for (const record of [true, false]) {
  Deno.test(
    `a dead isolate (${
      record ? "deadline passed" : "no record left"
    }) is swept once: presence cleaned, groups told`,
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "parley-liveness-" });
      const path = `${dir}/kv.sqlite3`;
      const kv = await Deno.openKv(path);
      // Two live isolates race to sweep it; the watcher must hear each ghost leave once.
      // A TTL that a loaded machine's stalls do not outlast (at 300 ms, a and b
      // took each other for dead under CI's load and dropped the watcher).
      const cluster = { isolateTtlMs: 2_000 };
      const kvB = await Deno.openKv(path);
      // The dead isolate's clients get no time to resume elsewhere here.
      const limits = { resumeGraceMs: 300 };
      const a = await startHub({ kv, isolate: "iso-a", cluster, limits });
      const b = await startHub({ kv: kvB, isolate: "iso-b", cluster, limits });
      const watcher = await rawClient(b.url);
      await watcher.request({ type: "join", group: "room" });
      const ghosts = await deadIsolate(kv, "iso-dead", "room", 5, record);
      const disconnected = () =>
        watcher.frames.filter((f): f is Notice =>
          f.type === "notice" && f.code === "USER_DISCONNECTED"
        );
      // With a record, within the TTL and a beat; without, at the next start.
      const c = record ? null : await startHub({ kv, isolate: "iso-c", cluster, limits });
      await waitFor(() => disconnected().length >= ghosts.length, {
        timeout: 10_000,
        message: "a USER_DISCONNECTED per ghost",
      });
      await c?.close();
      await new Promise((r) => setTimeout(r, 1_500)); // two more beats: no second sweep
      assert.deepEqual(
        disconnected().map((f) => f.sender_cid).sort(),
        ghosts.map((g) => g.cid).sort(),
      );
      const users = await watcher.request({ type: "users", group: "room" });
      assert.deepEqual(
        (users as { result: { list: { cid: string }[] } }).result.list.map((r) => r.cid),
        [watcher.welcome.cid],
      );
      const groups = await watcher.request({ type: "groups" });
      assert.deepEqual((groups as { result: { list: unknown[] } }).result.list, [
        { group: "room", number_of_users: 1 },
      ]);
      assert.equal((await kv.get(LIVENESS_KEYS.isolate("iso-dead"))).value, null);
      assert.deepEqual(await Array.fromAsync(kv.list({ prefix: BUS_KEYS.inbox("iso-dead") })), []);
      assert.equal((await kv.get(BUS_KEYS.head("iso-dead"))).value, null);
      await watcher.close();
      // B tells A of the watcher's leave before anyone closes.
      await waitFor(() => b.hub.counts.sockets === 0);
      await b.close();
      await a.close();
      assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["parley"] })), []);
      kv.close();
      kvB.close();
      await Deno.remove(dir, { recursive: true });
    },
  );
}

Deno.test("an isolate beats a deadline into its record and removes it on close", async () => {
  const kv = await Deno.openKv(":memory:");
  const server = await startHub({ kv, isolate: "iso-a", cluster: { isolateTtlMs: 600 } });
  await (await rawClient(server.url)).close(); // accepted only once recorded
  const first = (await kv.get<IsolateRecord>(LIVENESS_KEYS.isolate("iso-a"))).value!;
  assert.ok(first.deadline > Date.now() && first.deadline <= Date.now() + 600);
  await new Promise((r) => setTimeout(r, 450));
  const later = (await kv.get<IsolateRecord>(LIVENESS_KEYS.isolate("iso-a"))).value!;
  assert.ok(later.deadline > first.deadline, "the beat moved the deadline");
  assert.equal(later.since, first.since);
  await Promise.all([server.hub.close(), server.hub.close()]);
  assert.equal((await kv.get(LIVENESS_KEYS.isolate("iso-a"))).value, null);
  await server.close();
  kv.close();
});

Deno.test("an isolate taken for dead drops its sockets so they reconnect", async () => {
  const kv = await Deno.openKv(":memory:");
  const server = await startHub({ kv, isolate: "iso-a", cluster: { isolateTtlMs: 300 } });
  const client = await rawClient(server.url);
  // Another isolate claims iso-a (as after a stall longer than the TTL).
  const claim: IsolateRecord = { deadline: Date.now() + 300, since: 0, sweeper: "iso-z" };
  await kv.set(LIVENESS_KEYS.isolate("iso-a"), claim);
  const { code } = await client.closed;
  assert.equal(code, 1001);
  // Once the sweeper is done (its claim deleted), iso-a records itself again.
  await kv.delete(LIVENESS_KEYS.isolate("iso-a"));
  const again = await rawClient(server.url);
  assert.equal(again.welcome.isolate, "iso-a");
  assert.equal(
    (await kv.get<IsolateRecord>(LIVENESS_KEYS.isolate("iso-a"))).value?.sweeper,
    undefined,
  );
  await again.close();
  await server.close();
  kv.close();
});
