import assert from "node:assert/strict";
import { BUS_KEYS, isolatesWithInbox } from "../../../lib/server/bus/mod.ts";
import { type IsolateRecord, LIVENESS_KEYS } from "../../../lib/server/liveness/beat.ts";
import { Sweeper } from "../../../lib/server/liveness/sweeper.ts";
import { type ConnectionRecord, Presence } from "../../../lib/server/presence.ts";

Deno.test("sweeper: reads the live isolates, sweeps a dead one once, removes a closed one's inbox", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = Date.now();
  const alive: IsolateRecord = { deadline: now + 60_000, since: now };
  const dead: IsolateRecord = { deadline: now - 60_000, since: now - 120_000 };
  await kv.set(LIVENESS_KEYS.isolate("iso-live"), alive);
  await kv.set(LIVENESS_KEYS.isolate("iso-dead"), dead);
  const ghost = new Presence(kv, "iso-dead");
  const who = { cid: "cid:ghost", user_id: crypto.randomUUID(), name: "ghost" };
  await ghost.connect(who);
  await ghost.move(who, null, "room");
  await kv.set(BUS_KEYS.head("iso-closed"), "iso-x:1"); // an inbox without an isolate
  const gone: ConnectionRecord[] = [];
  const swept: string[] = [];
  const options = {
    kv,
    presence: new Presence(kv, "iso-a"),
    ttlMs: 1_000,
    onGone: (record: ConnectionRecord) => Promise.resolve(void gone.push(record)),
    onSwept: (iso: string) => void swept.push(iso),
  };
  const a = new Sweeper({ ...options, isolate: "iso-a" });
  const b = new Sweeper({ ...options, isolate: "iso-b" });
  const [readA, readB] = await Promise.all([a.sweepDead(), b.sweepDead()]);
  assert.deepEqual(readA.live, ["iso-live"]);
  assert.deepEqual(readB.live, ["iso-live"]);
  await Promise.all([a.close(), b.close()]);
  assert.deepEqual(swept, ["iso-dead"], "swept once, by one of the two");
  assert.deepEqual(gone.map((r) => r.cid), ["cid:ghost"]);
  assert.equal((await kv.get(LIVENESS_KEYS.isolate("iso-dead"))).value, null);
  assert.deepEqual(await Array.fromAsync(options.presence.allConnections()), []);
  assert.deepEqual([...await isolatesWithInbox(kv)], []);
});
