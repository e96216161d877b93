import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import type { RawClient } from "../_helpers/hub.ts";
import { CLUSTER_ENV, kvEntries, spread } from "../_helpers/cluster.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

const PAIRS = 10; // each pair sends both ways: 20 senders
const PER_SENDER = 500; // 20 × 500 = 10,000 messages, every one across isolates

/**
 * What `to` received from `from`, in arrival order: signals and private
 * messages both carry their index.
 */
function receivedFrom(to: RawClient, from: RawClient): number[] {
  const out: number[] = [];
  for (const f of to.frames) {
    if (f.type === "signal" && f.sender_cid === from.welcome.cid) {
      const c = f.signal.kind === "candidate" ? f.signal.candidate?.candidate : undefined;
      out.push(Number(c?.slice("candidate:".length)));
    } else if (f.type === "private" && f.sender_cid === from.welcome.cid) {
      out.push((f.message as { i: number }).i);
    }
  }
  return out;
}

const isPost = (i: number) => i % 10 === 9;
/** Odd signals go without id, as the SDK sends candidates (protocol v3): no ack. */
const isUnacked = (i: number) => !isPost(i) && i % 2 === 1;
const ANSWERED = Array.from({ length: PER_SENDER }, (_, i) => i).filter((i) => !isUnacked(i))
  .length;

/**
 * Sends without waiting: a signal to the cid (acked and unacked in turn),
 * every 10th a private message to the user.
 */
function sendAll(from: RawClient, to: RawClient): void {
  for (let i = 0; i < PER_SENDER; i++) {
    from.send(
      isPost(i) ? { type: "post", id: i, recipient: to.welcome.user_id, message: { i } } : {
        type: "signal",
        ...(isUnacked(i) ? {} : { id: i }),
        to: to.welcome.cid,
        signal: { kind: "candidate", call: "c", candidate: { candidate: `candidate:${i}` } },
      },
    );
  }
}

const acks = (client: RawClient) =>
  client.frames.filter((f: ServerFrame) => f.type === "ack" || f.type === "error").length;

for (
  const [name, env] of [
    ["half the broadcasts dropped", { PARLEY_BROADCAST_DROP: "0.5" }],
    ["broadcast off", { PARLEY_BROADCAST: "off" }],
  ] as const
) {
  Deno.test(`10,000 messages across isolates, ${name}: none lost, none twice, in order`, async () => {
    await using app = await startApp({ cluster: true, env: { ...CLUSTER_ENV, ...env } });
    const [left, right] = await spread(app.wsUrl, PAIRS, { ignoreNotices: true });
    const pairs = left.map((l, i) => [l, right[i]] as const);
    const started = performance.now();
    for (const [l, r] of pairs) {
      sendAll(l, r);
      sendAll(r, l);
    }
    const everyone = [...left, ...right];
    const total = () =>
      pairs.reduce((n, [l, r]) => n + receivedFrom(r, l).length + receivedFrom(l, r).length, 0);
    await waitFor(() => total() >= 2 * PAIRS * PER_SENDER, {
      timeout: 30_000,
      interval: 20,
      message: `10,000 deliveries (got ${total()})`,
    });
    const elapsed = performance.now() - started;
    await waitFor(() => everyone.every((c) => acks(c) === ANSWERED), {
      timeout: 10_000,
      message: "every request answered",
    });
    console.log(
      `${name}: 10,000 cross-isolate messages in ${Math.round(elapsed)} ms ` +
        `(${Math.round(10_000 / (elapsed / 1000))}/s, send to last delivery)`,
    );
    // Let stragglers (a duplicate would be one) arrive before judging.
    await new Promise((r) => setTimeout(r, 300));
    const expected = Array.from({ length: PER_SENDER }, (_, i) => i);
    for (const [l, r] of pairs) {
      assert.deepEqual(receivedFrom(r, l), expected, `${l.welcome.cid} → ${r.welcome.cid}`);
      assert.deepEqual(receivedFrom(l, r), expected, `${r.welcome.cid} → ${l.welcome.cid}`);
    }
    const errors = everyone.flatMap((c) => c.frames.filter((f) => f.type === "error"));
    assert.deepEqual(errors, []);
    await Promise.all(everyone.map((c) => c.close()));
    // KV stays bounded: every inbox entry was consumed and deleted.
    await waitFor(async () => (await kvEntries(app.kvPath, ["parley", "inbox"])).length === 0, {
      message: "every inbox consumed",
    });
  });
}
