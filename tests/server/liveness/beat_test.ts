import assert from "node:assert/strict";
import {
  Beat,
  isAlive,
  type IsolateRecord,
  LIVENESS_KEYS,
} from "../../../lib/server/liveness/beat.ts";

Deno.test("beat: registers, pushes its deadline on, and removes its record", async () => {
  using kv = await Deno.openKv(":memory:");
  let announced = 0;
  const beat = new Beat({
    kv,
    isolate: "iso-a",
    ttlMs: 1_000,
    onRegistered: () => Promise.resolve(void announced++),
  });
  await beat.register();
  await beat.ready;
  assert.equal(announced, 1, "announced before ready");
  const first = (await kv.get<IsolateRecord>(LIVENESS_KEYS.isolate("iso-a"))).value!;
  assert.ok(isAlive(first, Date.now()));
  await new Promise((r) => setTimeout(r, 20));
  await beat.beat();
  const later = (await kv.get<IsolateRecord>(LIVENESS_KEYS.isolate("iso-a"))).value!;
  assert.ok(later.deadline > first.deadline);
  assert.equal(later.since, first.since);
  await beat.remove();
  assert.equal((await kv.get(LIVENESS_KEYS.isolate("iso-a"))).value, null);
});

Deno.test("beat: a record claimed by a sweeper is an eviction; it registers again once swept", async () => {
  using kv = await Deno.openKv(":memory:");
  let evictions = 0;
  const beat = new Beat({ kv, isolate: "iso-a", ttlMs: 1_000, onEvicted: () => evictions++ });
  await beat.register();
  const key = LIVENESS_KEYS.isolate("iso-a");
  const claim: IsolateRecord = { deadline: Date.now() + 1_000, since: 0, sweeper: "iso-b" };
  await kv.set(key, claim);
  assert.equal(isAlive(claim, Date.now()), false, "a record being swept is not alive");
  await beat.beat();
  await beat.beat();
  assert.equal(evictions, 1, "told once");
  let ready = false;
  beat.ready.then(() => (ready = true));
  await beat.beat(); // the claim is still there: no record of its own yet
  assert.equal(ready, false);
  await kv.delete(key); // the sweep is over
  await beat.beat();
  await beat.ready;
  assert.equal((await kv.get<IsolateRecord>(key)).value?.sweeper, undefined);
  await beat.remove();
});
