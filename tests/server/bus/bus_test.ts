// Over 300 lines: one test per behaviour of the bus over real KV, sharing one recorder and KV file helper.
import assert from "node:assert/strict";
import {
  Bus,
  BUS_KEYS,
  type BusOptions,
  BusUnavailableError,
} from "../../../lib/server/bus/mod.ts";
import { failingKv } from "../../_helpers/failing_kv.ts";
import { waitFor } from "../../_helpers/wait.ts";

/** A KV file of its own, opened once per simulated isolate (as `deno serve --parallel` does). */
async function kvFile(): Promise<{ open(): Promise<Deno.Kv>; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "parley-bus-" });
  return {
    open: () => Deno.openKv(`${dir}/kv.sqlite3`),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A bus that records what it receives, per sender. */
function recorder(
  kv: Deno.Kv,
  isolate: string,
  options: Partial<BusOptions> = {},
): { bus: Bus; got: Map<string, string[]>; count(): number } {
  const got = new Map<string, string[]>();
  const bus = new Bus({
    kv,
    isolate,
    channel: `test-${isolate}`, // overridden below for a shared channel
    ...options,
    deliver: (line, from) => {
      const lines = got.get(from) ?? [];
      lines.push(line);
      got.set(from, lines);
    },
  });
  bus.start();
  return { bus, got, count: () => [...got.values()].reduce((n, l) => n + l.length, 0) };
}

const lines = (from: string, n: number) => Array.from({ length: n }, (_, i) => `${from}#${i}`);

async function inboxLeft(kv: Deno.Kv, iso: string): Promise<number> {
  return (await Array.fromAsync(kv.list({ prefix: BUS_KEYS.inbox(iso) }))).length;
}

for (
  const [name, settings] of [
    ["broadcast off (KV alone)", { broadcast: false }],
    ["half the broadcasts dropped", { broadcast: true, broadcastDrop: 0.5 }],
  ] as const
) {
  Deno.test(`bus, ${name}: 5,000 events each way arrive once, in order, and are deleted`, async () => {
    const file = await kvFile();
    const [kvA, kvB] = [await file.open(), await file.open()];
    const channel = `bus-test-${crypto.randomUUID()}`;
    const a = recorder(kvA, "iso-a", { ...settings, channel });
    const b = recorder(kvB, "iso-b", { ...settings, channel });
    // Over several ticks, in bursts, as sockets would.
    for (let burst = 0; burst < 50; burst++) {
      for (let i = 0; i < 100; i++) {
        const n = burst * 100 + i;
        a.bus.publish(["iso-b", "iso-a"], `iso-a#${n}`); // itself is skipped
        b.bus.publish(["iso-a"], `iso-b#${n}`);
      }
      await new Promise((r) => setTimeout(r, burst % 5 === 0 ? 5 : 0));
    }
    await waitFor(() => a.count() === 5000 && b.count() === 5000, {
      timeout: 20_000,
      message: `all events (a got ${a.count()}, b got ${b.count()})`,
    });
    assert.deepEqual(b.got.get("iso-a"), lines("iso-a", 5000));
    assert.deepEqual(a.got.get("iso-b"), lines("iso-b", 5000));
    assert.equal(a.got.has("iso-a"), false);
    if (settings.broadcast) {
      assert.ok(b.bus.stats.fromBroadcast > 0, "some came over the channel");
      assert.ok(a.bus.stats.dropped > 0, "some broadcasts were dropped");
    } else {
      assert.equal(b.bus.stats.fromBroadcast, 0);
    }
    assert.ok(b.bus.stats.fromKv > 0, "some came from KV");
    assert.ok(a.bus.stats.commits < 1000, `batched: ${a.bus.stats.commits} commits`);
    // Consumed entries are deleted, whichever copy was delivered.
    await waitFor(async () => (await inboxLeft(kvA, "iso-b")) === 0, {
      message: "b's inbox emptied",
    });
    await waitFor(async () => (await inboxLeft(kvA, "iso-a")) === 0, {
      message: "a's inbox emptied",
    });
    await Promise.all([a.bus.close(), a.bus.close(), b.bus.close()]);
    kvA.close();
    kvB.close();
    await file.remove();
  });
}

Deno.test("bus: one tick is one commit per KV's limits; large events travel in parts", async () => {
  const file = await kvFile();
  const [kvA, kvB, kvC] = [await file.open(), await file.open(), await file.open()];
  const a = recorder(kvA, "iso-a", { broadcast: false });
  const b = recorder(kvB, "iso-b", { broadcast: false });
  const c = recorder(kvC, "iso-c", { broadcast: false });
  // 2,500 small events to two isolates in one tick: 5,000 entries' worth of
  // events, packed into 60 KB values, in as few commits as 800 KiB allow.
  const small = lines("iso-a", 2500);
  for (const line of small) a.bus.publish(["iso-b", "iso-c"], line);
  await a.bus.flush();
  assert.ok(a.bus.stats.commits <= 2, `${a.bus.stats.commits} commits for one tick`);
  // Large events (over one KV value) between small ones, each whole and in place.
  const big = (n: number) => `big${n}:` + "é".repeat(50_000) + "x".repeat(n);
  const mixed = ["s1", big(1), "s2", big(2), big(3), "s3"];
  for (const line of mixed) a.bus.publish(["iso-b"], line);
  // A burst larger than one commit may hold (1,000 mutations or 800 KiB).
  const many = Array.from({ length: 30 }, (_, n) => `m${n}:` + "y".repeat(40_000));
  for (const line of many) a.bus.publish(["iso-c"], line);
  await waitFor(() => b.count() === 2500 + mixed.length && c.count() === 2500 + many.length, {
    timeout: 20_000,
    message: `all events (b ${b.count()}, c ${c.count()})`,
  });
  assert.deepEqual(b.got.get("iso-a"), [...small, ...mixed]);
  assert.deepEqual(c.got.get("iso-a"), [...small, ...many]);
  await waitFor(async () =>
    (await inboxLeft(kvA, "iso-b")) + (await inboxLeft(kvA, "iso-c")) === 0
  );
  await Promise.all([a, b, c].map((r) => r.bus.close()));
  for (const kv of [kvA, kvB, kvC]) kv.close();
  await file.remove();
});

Deno.test("bus: the channel copy and the KV copy of an event make one delivery", async () => {
  const file = await kvFile();
  const [kvA, kvB] = [await file.open(), await file.open()];
  const channel = `bus-test-${crypto.randomUUID()}`;
  const a = recorder(kvA, "iso-a", { channel });
  const b = recorder(kvB, "iso-b", { channel });
  for (const line of lines("iso-a", 1000)) a.bus.publish(["iso-b"], line);
  await waitFor(() => b.count() === 1000, { message: "1,000 events" });
  await a.bus.flush();
  // Give the KV copies time to be listed, skipped and deleted.
  await waitFor(async () => (await inboxLeft(kvA, "iso-b")) === 0);
  assert.deepEqual(b.got.get("iso-a"), lines("iso-a", 1000));
  assert.equal(b.bus.stats.fromKv + b.bus.stats.fromBroadcast, 1000);
  await Promise.all([a.bus.close(), b.bus.close()]);
  kvA.close();
  kvB.close();
  await file.remove();
});

Deno.test("bus: close() commits what was published, then removes its own inbox", async () => {
  const file = await kvFile();
  const kv = await file.open();
  const a = recorder(kv, "iso-a", { broadcast: false });
  // No receiver is running: the events stay in iso-b's inbox until it reads them.
  for (const line of lines("iso-a", 10)) a.bus.publish(["iso-b"], line);
  await a.bus.close();
  assert.equal(await inboxLeft(kv, "iso-b"), 1, "ten events, one entry, committed by close()");
  assert.notEqual((await kv.get(BUS_KEYS.head("iso-b"))).value, null);
  const b = recorder(kv, "iso-b", { broadcast: false });
  await waitFor(() => b.count() === 10);
  await b.bus.close();
  assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["parley"] })), []);
  assert.throws(() => a.bus.publish(["iso-b"], "two\nlines"), TypeError);
  kv.close();
  await file.remove();
});

/** Whether `promise` has settled, after the microtasks queued so far. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

Deno.test("bus: publishCommitted resolves once the commit landed, one commit for a batch; the channel copy does not count", async () => {
  const file = await kvFile();
  const [kvA, kvB] = [await file.open(), await file.open()];
  const faulty = failingKv(kvA, BUS_KEYS.inbox("iso-b").slice(0, 2));
  const gate = Promise.withResolvers<void>();
  faulty.hold = gate.promise;
  const channel = `bus-test-${crypto.randomUUID()}`;
  const a = recorder(faulty.kv, "iso-a", { channel });
  const b = recorder(kvB, "iso-b", { channel });
  const sent = lines("iso-a", 50).map((line) => a.bus.publishCommitted(["iso-b"], line));
  // The channel already delivered them all; not one is safe yet.
  await waitFor(() => b.count() === 50, { message: "the channel copies" });
  assert.equal(await settled(Promise.race(sent)), false, "no ack before the commit");
  const commits = a.bus.stats.commits;
  faulty.hold = null;
  gate.resolve();
  await Promise.all(sent);
  assert.equal(a.bus.stats.commits - commits, 1, "the 50 events rode one commit");
  assert.equal(await a.bus.publishCommitted(["iso-a"], "to itself"), undefined, "at once");
  await Promise.all([a.bus.close(), b.bus.close()]);
  kvA.close();
  kvB.close();
  await file.remove();
});

Deno.test("bus: commits that keep failing reject the waiting sends with BusUnavailableError; nothing queued is thrown away", async () => {
  const file = await kvFile();
  const [kvA, kvB] = [await file.open(), await file.open()];
  const faulty = failingKv(kvA, BUS_KEYS.inbox("iso-b").slice(0, 2));
  faulty.fail = true;
  const a = recorder(faulty.kv, "iso-a", { broadcast: false, unavailableAfterMs: 200 });
  const b = recorder(kvB, "iso-b", { broadcast: false });
  const plain = lines("iso-a", 5);
  for (const line of plain.slice(0, 2)) a.bus.publish(["iso-b"], line);
  const waiting = a.bus.publishCommitted(["iso-b"], plain[2]);
  await assert.rejects(waiting, BusUnavailableError);
  assert.ok(faulty.failed >= 2, "the commit was retried");
  // While KV is unavailable, a send that wants an ack is refused at once, and not queued.
  await assert.rejects(a.bus.publishCommitted(["iso-b"], "refused"), BusUnavailableError);
  for (const line of plain.slice(3)) a.bus.publish(["iso-b"], line);
  assert.equal(b.count(), 0);
  faulty.fail = false;
  // KV is back: every queued event arrives, once, in order; acks work again.
  await waitFor(() => b.count() === 5, { timeout: 10_000, message: "the queued events" });
  assert.deepEqual(b.got.get("iso-a"), plain);
  await a.bus.publishCommitted(["iso-b"], "after");
  await waitFor(() => b.count() === 6);
  assert.equal(a.bus.stats.unavailable, 2);
  await Promise.all([a.bus.close(), b.bus.close()]);
  kvA.close();
  kvB.close();
  await file.remove();
});

Deno.test("bus: close() with KV unavailable gives up on what was never acked", async () => {
  const kv = await Deno.openKv(":memory:");
  const faulty = failingKv(kv, BUS_KEYS.inbox("iso-b").slice(0, 2));
  faulty.fail = true;
  const a = recorder(faulty.kv, "iso-a", { broadcast: false, unavailableAfterMs: 100 });
  const waiting = a.bus.publishCommitted(["iso-b"], "never safe");
  const closed = a.bus.close();
  await assert.rejects(waiting, BusUnavailableError);
  await closed;
  await assert.rejects(a.bus.publishCommitted(["iso-b"], "late"), BusUnavailableError);
  kv.close();
});

Deno.test("bus: one commit in flight: later events wait and go in the next, none lands ahead, acks in order", async () => {
  // One at a time on purpose: with two in flight, a later commit could land
  // while an earlier one kept failing, and the receiver would in time skip
  // the gap and lose the earlier commit's events.
  const file = await kvFile();
  const [kvA, kvB] = [await file.open(), await file.open()];
  const faulty = failingKv(kvA, BUS_KEYS.inbox("iso-b").slice(0, 2));
  const gate = Promise.withResolvers<void>();
  faulty.hold = gate.promise;
  const a = recorder(faulty.kv, "iso-a", { broadcast: false });
  const b = recorder(kvB, "iso-b", { broadcast: false });
  const first = a.bus.publishCommitted(["iso-b"], "one");
  await new Promise((r) => setTimeout(r, 0)); // its commit is made, and held
  const second = a.bus.publishCommitted(["iso-b"], "two");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(
    (await kvB.get(BUS_KEYS.entry("iso-b", "iso-a", 2, 0, 1))).value,
    null,
    "no second commit while the first is in flight",
  );
  assert.equal(b.count(), 0);
  assert.equal(await settled(second), false, "no ack before its commit");
  faulty.hold = null;
  gate.resolve();
  await Promise.all([first, second]);
  await waitFor(() => b.count() === 2, { message: "both events" });
  assert.deepEqual(b.got.get("iso-a"), ["one", "two"]);
  await Promise.all([a.bus.close(), b.bus.close()]);
  kvA.close();
  kvB.close();
  await file.remove();
});

Deno.test("bus, broadcast off: a ping-pong is delivered from the heads, and each reply's commit deletes what was consumed", async () => {
  const file = await kvFile();
  const [kvA, kvB] = [await file.open(), await file.open()];
  const rounds = 200;
  const a = recorder(kvA, "iso-a", { broadcast: false });
  // b answers each event at once, as a socket's reply would come.
  const got: string[] = [];
  const b: Bus = new Bus({
    kv: kvB,
    isolate: "iso-b",
    broadcast: false,
    deliver: (line) => {
      got.push(line);
      b.publish(["iso-a"], line);
    },
  });
  b.start();
  const replies = () => a.got.get("iso-b")?.length ?? 0;
  for (let i = 0; i < rounds; i++) {
    a.bus.publish(["iso-b"], `ping-${i}`);
    await waitFor(() => replies() === i + 1, { interval: 1, message: `reply ${i}` });
  }
  assert.deepEqual(got, Array.from({ length: rounds }, (_, i) => `ping-${i}`));
  assert.deepEqual(a.got.get("iso-b"), got);
  // A listing now and then (the first doorbell, the poll): not one a round.
  assert.ok(b.stats.listings < rounds / 4, `${b.stats.listings} listings`);
  assert.ok(b.stats.deleteCommits < rounds / 4, `${b.stats.deleteCommits} delete commits`);
  await waitFor(async () => (await inboxLeft(kvB, "iso-b")) === 0, {
    message: "b's inbox emptied",
  });
  await Promise.all([a.bus.close(), b.close()]);
  kvA.close();
  kvB.close();
  await file.remove();
});
