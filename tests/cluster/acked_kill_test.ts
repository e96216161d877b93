import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { lockKv } from "../_helpers/faults.ts";
import { rawClient } from "../_helpers/hub.ts";
import { freePort } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

type Outcome = "acked" | "UNAVAILABLE" | "socket died" | "other error";

Deno.test("acked then SIGKILLed, under a KV write stall: every acked message arrives exactly once; the sender heard of every other one", async () => {
  const kvDir = await Deno.makeTempDir({ prefix: "parley-acked-kill-" });
  const kvPath = `${kvDir}/kv.sqlite3`;
  const portA = freePort();
  await using appB = await startApp({ kvPath });
  let appA = await startApp({ kvPath, port: portA });
  const recipient = await rawClient(appB.wsUrl, { name: "Rae" });
  const outcomes = new Map<string, Outcome>();
  // Short stalls: the acks come once KV is back. The last one outlasts the
  // bus's patience (5 s): the senders are told UNAVAILABLE instead.
  const stalls = [1.5, 1.5, 1.5, 1.5, 6.5];
  const rounds = stalls.length;
  const perRound = 5;
  try {
    for (let round = 0; round < rounds; round++) {
      const sender = await rawClient(appA.wsUrl, { name: `Sam${round}` });
      // The recipient is reachable from A before KV stalls (A's directory knows it).
      const probe = await sender.request({
        type: "post",
        message: `probe ${round}`,
        recipient: recipient.welcome.user_id,
      }, 10_000);
      assert.equal(probe.type, "ack", `round ${round}: the recipient is reachable`);

      const ids = new Map<number, string>();
      let killed = false;
      sender.socket.addEventListener("message", (event) => {
        const frame = JSON.parse(event.data) as ServerFrame;
        if (frame.type !== "ack" && frame.type !== "error") return;
        const name = frame.id === undefined ? undefined : ids.get(frame.id);
        if (name === undefined || outcomes.has(name)) return;
        if (frame.type === "ack") {
          outcomes.set(name, "acked");
          // Right after the first ack: the process dies with whatever it still holds.
          if (!killed) {
            killed = true;
            Deno.kill(appA.pid, "SIGKILL");
          }
        } else {
          outcomes.set(name, frame.code === "UNAVAILABLE" ? "UNAVAILABLE" : "other error");
        }
      });

      const stall = await lockKv(kvPath, stalls[round] * 1000);
      for (let i = 0; i < perRound; i++) {
        const name = `r${round}m${i}`;
        const id = 5_000_000 + round * 100 + i;
        ids.set(id, name);
        sender.send({ type: "post", id, message: name, recipient: recipient.welcome.user_id });
        await new Promise((r) => setTimeout(r, 20));
      }
      await stall.ended;
      await waitFor(
        () => killed || [...ids.values()].every((name) => outcomes.has(name)),
        { timeout: 15_000, message: `round ${round}: an ack or every answer` },
      );
      if (!killed) Deno.kill(appA.pid, "SIGKILL");
      await sender.closed;
      for (const name of ids.values()) if (!outcomes.has(name)) outcomes.set(name, "socket died");
      await appA.stop();
      appA = await startApp({ kvPath, port: portA });
    }

    const acked = [...outcomes].filter(([, o]) => o === "acked").map(([name]) => name);
    const counts = () => {
      const got = new Map<string, number>();
      for (const frame of recipient.frames) {
        if (frame.type !== "private" || typeof frame.message !== "string") continue;
        if (!frame.message.startsWith("r")) continue;
        got.set(frame.message, (got.get(frame.message) ?? 0) + 1);
      }
      return got;
    };
    await waitFor(() => acked.every((name) => counts().has(name)), {
      timeout: 20_000,
      message: "every acked message at the recipient",
    });
    // Let late copies (a duplicate would be one) arrive.
    await new Promise((r) => setTimeout(r, 1_500));
    const got = counts();
    const tally = Object.groupBy([...outcomes.values()], (o) => o);
    console.log(
      `${outcomes.size} posts: ` +
        Object.entries(tally).map(([o, list]) => `${list!.length} ${o}`).join(", ") +
        `; ${got.size} reached the recipient`,
    );
    assert.equal(outcomes.size, rounds * perRound);
    assert.ok(acked.length >= rounds - 1, "an ack each short round (it came after the stall)");
    assert.ok((tally.UNAVAILABLE?.length ?? 0) >= 1, "the long stall gave UNAVAILABLE");
    for (const name of acked) assert.equal(got.get(name), 1, `${name} (acked) exactly once`);
    for (const [name, n] of got) assert.equal(n, 1, `${name} at most once`);
    for (const [name, outcome] of outcomes) {
      assert.ok(outcome !== "other error", `${name}: the sender was told (${outcome})`);
    }
  } finally {
    await recipient.close();
    await appA.stop();
    await appB.stop();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
});
