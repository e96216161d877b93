import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { CLUSTER_ENV } from "../_helpers/cluster.ts";
import { type RawClient, rawClient } from "../_helpers/hub.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

/** The numbers of the room messages a client got, in arrival order. */
const numbers = (client: RawClient) =>
  client.frames.flatMap((f) => f.type === "message" ? [f.message as number] : []);

/** Whether `got` is a run `first, first + 1, …, last` with nothing twice and nothing missing. */
function assertRun(got: number[], atMost: number, last: number, who: string): void {
  assert.ok(got.length > 0, `${who} got messages`);
  assert.ok(got[0] <= atMost, `${who}'s first message ${got[0]} is at most ${atMost}`);
  const run = Array.from({ length: last - got[0] + 1 }, (_, i) => got[0] + i);
  assert.deepEqual(got, run, `${who}: every message from its first to ${last}, once, in order`);
}

Deno.test("isolates that start and die while a room talks: each member gets every message from its join on", async () => {
  // Separate processes on one KV file: no BroadcastChannel between them, KV alone.
  const dir = await Deno.makeTempDir({ prefix: "parley-churn-" });
  const kvPath = `${dir}/kv.sqlite3`;
  const env = { ...CLUSTER_ENV, PARLEY_ISOLATE_TTL_MS: "1000" };
  const first = await startApp({ kvPath, env });
  let second: Awaited<ReturnType<typeof startApp>> | undefined;
  let third: Awaited<ReturnType<typeof startApp>> | undefined;
  const clients: RawClient[] = [];
  try {
    const sender = await rawClient(first.wsUrl);
    clients.push(sender);
    await sender.request({ type: "join", group: "room" });
    let sent = 0;
    let talking = true;
    const talk = (async () => {
      while (talking) {
        const ack = await sender.request({ type: "post", message: sent });
        assert.equal(ack.type, "ack");
        sent++;
      }
    })();
    /** Joins a client on `app` and says which message the sender sends first once it has heard. */
    const join = async (url: string) => {
      const client = await rawClient(url);
      clients.push(client);
      await client.request({ type: "join", group: "room" });
      await sender.next<Notice>((f) =>
        f.type === "notice" && f.code === "USER_JOINED" && f.sender_cid === client.welcome.cid
      );
      // Post number `sent` may be in flight (sent before the join, its ack
      // still waiting on the bus's commit): the first one sent after hearing
      // is at most `sent + 1`.
      return { client, heardAt: sent + 1 };
    };

    await waitFor(() => sent > 20, { message: "the room talks" });
    second = await startApp({ kvPath, env });
    const onSecond = await join(second.wsUrl);
    third = await startApp({ kvPath, env });
    const onThird = await join(third.wsUrl);
    const isolates = [sender, onSecond.client, onThird.client].map((c) => c.welcome.isolate);
    assert.equal(new Set(isolates).size, 3, `three isolates: ${isolates}`);
    // Signals reach the newest isolate's member by cid, without NOT_FOUND.
    for (let i = 0; i < 10; i++) {
      const ack = await sender.request({
        type: "signal",
        to: onThird.client.welcome.cid,
        signal: { kind: "candidate", call: "c", candidate: { candidate: `candidate:${i}` } },
      });
      assert.equal(ack.type, "ack", JSON.stringify(ack));
    }

    // The second isolate dies mid-conversation.
    await waitFor(() => numbers(onSecond.client).length > 20, { message: "the second hears" });
    Deno.kill(second.pid, "SIGKILL");
    await second.stop();
    const gone = await sender.next<Notice>(
      (f) =>
        f.type === "notice" && f.code === "USER_DISCONNECTED" &&
        f.sender_cid === onSecond.client.welcome.cid,
      20_000,
    );
    assert.equal(gone.sender_rid, "room");
    const afterDeath = sent;
    await waitFor(() => sent > afterDeath + 20, { message: "the room talks on" });
    talking = false;
    await talk;
    const last = sent - 1;
    await waitFor(() => numbers(onThird.client).at(-1) === last, {
      timeout: 10_000,
      message: `the third isolate's member gets message ${last}`,
    });
    assertRun(numbers(onThird.client), onThird.heardAt, last, "the third isolate's member");
    assertRun(numbers(sender), 0, last, "the sender");
    const secondGot = numbers(onSecond.client);
    assertRun(secondGot, onSecond.heardAt, secondGot.at(-1)!, "the dead isolate's member");
    const signals = onThird.client.frames.filter((f) => f.type === "signal");
    assert.equal(signals.length, 10);
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    for (const app of [third, second, first]) await app?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
