import assert from "node:assert/strict";
import { Handovers, release, RELEASED } from "../../lib/server/handover.ts";
import { Registry, type Target } from "../../lib/server/registry.ts";
import { wiredConnections } from "../_helpers/connections.ts";

Deno.test("a takeover hears whether it got everything: all, a gap, or nothing before the timeout", async () => {
  const handovers = new Handovers(50);
  const whole = handovers.wait("cid:a");
  const gap = handovers.wait("cid:b");
  const silent = handovers.wait("cid:c");
  assert.equal(handovers.settle("cid:a", '{"type":"message"}'), false, "a frame is no marker");
  assert.equal(handovers.settle("cid:a", RELEASED.all), true);
  assert.equal(handovers.settle("cid:b", RELEASED.gap), true);
  assert.deepEqual(await Promise.all([whole, gap, silent]), [true, false, false]);
  // A marker nobody waits for is still one: it goes to no socket.
  assert.equal(handovers.settle("cid:z", RELEASED.all), true);
});

Deno.test("a second takeover of one cid ends the first one's wait, unfinished", async () => {
  const handovers = new Handovers(1_000);
  const first = handovers.wait("cid:a");
  const second = handovers.wait("cid:a");
  assert.equal(await first, false);
  handovers.settle("cid:a", RELEASED.all);
  assert.equal(await second, true);
});

Deno.test("the old isolate lets a connection go: the frames its client missed, in order, then the marker", async () => {
  await using wired = await wiredConnections(1);
  const { connection, client } = wired.pairs[0];
  const registry = new Registry();
  registry.add(connection);
  for (const n of [1, 2, 3]) {
    connection.send({ type: "message", message: n, sender_rid: "g", ...connection.stamp });
  }
  const routes: Array<{ target: Target; text: string }> = [];
  const cluster = {
    route: (target: Target, text: string) => {
      routes.push({ target, text });
      return Promise.resolve(0);
    },
  };
  release(registry, cluster, connection.cid, 1); // the client had the first
  const { cid } = connection;
  assert.deepEqual(routes.map((r) => r.target), [{ cid }, { cid }, { cid }]);
  assert.deepEqual(
    routes.map((r) => r.text.startsWith("{") ? JSON.parse(r.text).message : r.text),
    [
      2,
      3,
      RELEASED.all,
    ],
  );
  assert.equal(registry.get(cid), undefined);
  assert.deepEqual(await client.closed, { code: 1000, reason: "Resumed on another server" });
  // Not (or no longer) here: the taker hears of a gap.
  routes.length = 0;
  release(registry, cluster, cid, 3);
  assert.deepEqual(routes, [{ target: { cid }, text: RELEASED.gap }]);
});
