import assert from "node:assert/strict";
import { runSoak } from "../soak/scenario.ts";

// The soak of `deno task soak` (tests/soak/scenario.ts), 20 s long: two kills
// of process A, a KV stall before each (the second longer than the bus's 5 s
// patience), 20 clients posting and switching rooms throughout.
Deno.test("soak, short: no acked message lost or duplicated for recipients connected throughout, no ghosts, no lying resume", async () => {
  const figures = await runSoak({
    durationMs: 20_000,
    killEveryMs: 8_000,
    stallsMs: [1_500, 5_500],
    settleMs: 6_000,
    log: (line) => console.log(line),
  });
  console.log(JSON.stringify(figures));
  assert.equal(figures.kills, 2, "two kills");
  assert.equal(figures.stalls, 2, "two KV stalls");
  assert.ok(figures.acked > 100, `posts were acked (${figures.acked})`);
  assert.ok(figures.expected > 100, `recipients connected throughout (${figures.expected})`);
  assert.ok(figures.freshSessions >= 10, "A's clients came back as fresh sessions");
  assert.deepEqual(figures.stuck, [], "requests never answered on an open socket");
  assert.deepEqual(figures.examples, [], "no loss, no duplicate");
  assert.equal(figures.lost, 0, "acked messages lost");
  assert.equal(figures.duplicated, 0, "messages duplicated");
  assert.equal(figures.outOfOrder, 0, "messages out of their sender's order");
  assert.equal(figures.lyingResumes, 0, "resumed: true after a SIGKILL");
  assert.equal(figures.survivorReconnects, 0, "B's clients stayed connected");
  assert.deepEqual(figures.ghosts, { connections: 0, members: 0, users: 0, counts: 0, listed: 0 });
});
