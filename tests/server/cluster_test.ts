import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { BUS_KEYS } from "../../lib/server/bus/mod.ts";
import { RealtimeClient, RealtimeError } from "../../lib/sdk/mod.ts";
import { failingKv } from "../_helpers/failing_kv.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

for (const broadcast of [true, false]) {
  Deno.test(`two hubs on one KV (broadcast ${broadcast ? "on" : "off"}): everything crosses`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "parley-cluster-" });
    const kvA = await Deno.openKv(`${dir}/kv.sqlite3`);
    const kvB = await Deno.openKv(`${dir}/kv.sqlite3`);
    const cluster = { broadcast };
    const hubA = await startHub({ kv: kvA, isolate: "iso-a", cluster });
    const hubB = await startHub({ kv: kvB, isolate: "iso-b", cluster });
    const a = await rawClient(hubA.url, { name: "Ada" });
    const b = await rawClient(hubB.url, { name: "Bob" });
    const bUser = b.welcome.user_id;
    // Bob's second device, on A: the proof holds across isolates (one secret in KV).
    const b2 = await rawClient(hubA.url, {}, { hello: { proof: b.welcome.proof } });
    assert.equal(b2.welcome.user_id, bUser);
    assert.equal(a.welcome.isolate, "iso-a");
    assert.equal(b.welcome.isolate, "iso-b");

    await a.request({ type: "join", group: "g" });
    await b.request({ type: "join", group: "g" });
    // A hears B's join (from B's isolate), B its own.
    const joined = await a.next<Notice>((f) =>
      f.type === "notice" && f.code === "USER_JOINED" && f.sender_cid === b.welcome.cid
    );
    assert.equal(joined.name, "Bob");

    // A broadcast reaches both isolates; the count spans the cluster, as far
    // as B's directory knows it (A's announcement of Ada's join is on its way).
    await waitFor(() => hubB.hub.cluster.directory.groupSize("g") === 1);
    const posted = await b.request({ type: "post", message: { n: 1 } });
    assert.deepEqual((posted as { result: unknown }).result, { delivered: 2 });
    for (const client of [a, b]) {
      const got = await client.next((f) => f.type === "message");
      assert.deepEqual((got as { message: unknown }).message, { n: 1 });
    }

    // A private message reaches every connection of the user, on both isolates.
    const psst = await a.request({ type: "post", message: "psst", recipient: bUser });
    assert.deepEqual((psst as { result: unknown }).result, { delivered: 2 });
    for (const device of [b, b2]) {
      const got = await device.next((f) => f.type === "private");
      assert.equal((got as { sender_cid: string }).sender_cid, a.welcome.cid);
    }

    // RTC signals to a cid on the other isolate, in order.
    for (let i = 0; i < 20; i++) {
      const ack = await a.request({
        type: "signal",
        to: b.welcome.cid,
        signal: { kind: "candidate", call: "c1", candidate: { candidate: `candidate:${i}` } },
      });
      assert.equal(ack.type, "ack");
    }
    await waitFor(() => b.frames.filter((f) => f.type === "signal").length === 20);
    assert.deepEqual(
      b.frames.flatMap((f) =>
        f.type === "signal" && f.signal.kind === "candidate" ? [f.signal.candidate?.candidate] : []
      ),
      Array.from({ length: 20 }, (_, i) => `candidate:${i}`),
    );

    // A rename and a leave cross too; then a disconnect.
    await b.request({ type: "rename", name: "Robert" });
    await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_RENAMED");
    await b.request({ type: "join", group: null });
    await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_LEFT");
    await b.request({ type: "join", group: "g" });
    await b.close();
    const gone = await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_DISCONNECTED");
    assert.equal(gone.sender_cid, b.welcome.cid);

    // NOT_FOUND holds cluster-wide once B is gone.
    const missing = await a.request({
      type: "signal",
      to: b.welcome.cid,
      signal: { kind: "hangup", call: "c1" },
    });
    assert.equal((missing as { code: string }).code, "NOT_FOUND");

    // Nothing was delivered twice.
    const messages = a.frames.filter((f) => f.type === "message" || f.type === "notice");
    assert.equal(new Set(messages.map((f) => JSON.stringify(f))).size, messages.length);

    await a.close();
    await b2.close();
    await hubA.close();
    await hubB.close();
    // The inboxes are consumed and removed, the isolates' records too.
    assert.deepEqual(await Array.fromAsync(kvA.list({ prefix: ["parley"] })), []);
    assert.equal((await kvA.get(BUS_KEYS.head("iso-a"))).value, null);
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  });
}

/** KV reads of presence and liveness keys (not the bus's), counted per key space. */
function countingKv(kv: Deno.Kv): { kv: Deno.Kv; reads: () => number; reset(): void } {
  let reads = 0;
  const watched = new Set(["conn", "user", "group", "member", "isolate"]);
  const note = (key: Deno.KvKey | undefined) => {
    if (key?.[0] === "parley" && watched.has(String(key[1]))) reads++;
  };
  const proxy = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop === "get") {
        return (
          key: Deno.KvKey,
          ...rest: unknown[]
        ) => (note(key), value.call(target, key, ...rest));
      }
      if (prop === "getMany") {
        return (keys: Deno.KvKey[], ...rest: unknown[]) => (
          keys.forEach(note), value.call(target, keys, ...rest)
        );
      }
      if (prop === "list") {
        return (selector: { prefix?: Deno.KvKey; start?: Deno.KvKey }, ...rest: unknown[]) => (
          note(selector.prefix ?? selector.start), value.call(target, selector, ...rest)
        );
      }
      return value.bind(target);
    },
  });
  return { kv: proxy, reads: () => reads, reset: () => (reads = 0) };
}

for (const broadcast of [true, false]) {
  Deno.test(`routing across isolates reads no presence or liveness key (broadcast ${broadcast ? "on" : "off"}); a late isolate is reached`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "parley-directory-" });
    const path = `${dir}/kv.sqlite3`;
    const cluster = { broadcast, isolateTtlMs: 60_000 };
    const limits = { rateLimit: 100_000, rateBurst: 100_000 };
    const counted = countingKv(await Deno.openKv(path));
    const kvB = await Deno.openKv(path);
    const kvC = await Deno.openKv(path);
    const hubA = await startHub({ kv: counted.kv, isolate: "iso-a", cluster, limits });
    const hubB = await startHub({ kv: kvB, isolate: "iso-b", cluster, limits });
    const a = await rawClient(hubA.url);
    const b = await rawClient(hubB.url);
    await a.request({ type: "join", group: "g" });
    await b.request({ type: "join", group: "g" });
    await a.next((f) => f.type === "notice" && f.sender_cid === b.welcome.cid);

    counted.reset();
    for (let i = 0; i < 50; i++) {
      a.send({ type: "post", id: 10 * i + 1, message: i });
      a.send({ type: "post", id: 10 * i + 2, message: i, recipient: b.welcome.user_id });
      // As the SDK sends candidates (protocol v3): no id, no ack.
      a.send({
        type: "signal",
        to: b.welcome.cid,
        signal: { kind: "candidate", call: "c", candidate: { candidate: `candidate:${i}` } },
      });
    }
    await waitFor(() => a.frames.filter((f) => f.type === "ack").length === 1 + 100, {
      message: "every post acked",
    });
    assert.equal(a.frames.filter((f) => f.type === "error").length, 0);
    await waitFor(() =>
      b.frames.filter((f) => ["message", "private", "signal"].includes(f.type)).length === 150
    );
    assert.equal(counted.reads(), 0, "no presence or liveness read on the message path");

    // An isolate that starts now: it says hello, and its members are reached
    // by a room message sent once their join is seen.
    const hubC = await startHub({ kv: kvC, isolate: "iso-c", cluster, limits });
    const c = await rawClient(hubC.url);
    await c.request({ type: "join", group: "g" });
    await a.next((f) => f.type === "notice" && f.sender_cid === c.welcome.cid);
    const posted = await a.request({ type: "post", message: "to all three" });
    assert.deepEqual((posted as { result: unknown }).result, { delivered: 3 });
    await c.next((f) => f.type === "message" && f.message === "to all three");
    // And the late isolate knows the earlier ones' connections: no lookup either.
    const signalled = await c.request({
      type: "signal",
      to: a.welcome.cid,
      signal: { kind: "hangup", call: "c" },
    });
    assert.equal(signalled.type, "ack");
    await a.next((f) => f.type === "signal" && f.sender_cid === c.welcome.cid);

    for (const client of [a, b, c]) await client.close();
    for (const hub of [hubA, hubB, hubC]) await hub.close();
    for (const kv of [counted.kv, kvB, kvC]) kv.close();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("KV commits to other isolates keep failing: posts and acked signals get UNAVAILABLE, never an ack; local ones are acked; unacked signals arrive later", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-cluster-" });
  const faulty = failingKv(await Deno.openKv(`${dir}/kv.sqlite3`), ["parley", "inbox"]);
  const kvB = await Deno.openKv(`${dir}/kv.sqlite3`);
  const cluster = { broadcast: false, unavailableAfterMs: 300 };
  const hubA = await startHub({ kv: faulty.kv, isolate: "iso-a", cluster });
  const hubB = await startHub({ kv: kvB, isolate: "iso-b", cluster });
  try {
    const a = await rawClient(hubA.url, { name: "Ada" });
    const a2 = await rawClient(hubA.url, { name: "Al" });
    const b = await rawClient(hubB.url, { name: "Bob" });
    await a.request({ type: "join", group: "g" });
    await b.request({ type: "join", group: "g" });
    await waitFor(() => hubA.hub.cluster.directory.groupSize("g") === 1);

    faulty.fail = true;
    const refused = [
      { type: "post", message: "psst", recipient: b.welcome.user_id },
      { type: "post", message: "all" },
      {
        type: "signal",
        to: b.welcome.cid,
        signal: { kind: "candidate", call: "c1", candidate: { candidate: "candidate:1" } },
      },
    ];
    for (const frame of refused) {
      const answer = await a.request(frame, 5_000);
      assert.equal(answer.type, "error", `${JSON.stringify(frame)}: no ack`);
      assert.equal((answer as { code: string }).code, "UNAVAILABLE");
    }
    // An unacked signal (v3) waits for no commit: no answer now, and the bus
    // carries it once KV is back.
    a.send({
      type: "signal",
      to: b.welcome.cid,
      signal: { kind: "candidate", call: "c2", candidate: { candidate: "candidate:2" } },
    });
    assert.ok(faulty.failed > 0);
    // The SDK rejects with the same typed error.
    const skapi = new RealtimeClient({ url: hubA.url, name: "Sky" });
    await skapi.connectRealtime(() => {});
    await assert.rejects(
      skapi.postRealtime("psst", b.welcome.user_id),
      (error) => error instanceof RealtimeError && error.code === "UNAVAILABLE",
    );
    await skapi.closeRealtime();
    // Deliveries within the isolate need no commit: acked as before.
    const local = await a.request({ type: "post", message: "hi", recipient: a2.welcome.user_id });
    assert.deepEqual((local as { result: unknown }).result, { delivered: 1 });

    // KV is back: once the queued commit lands (its retry backs off to 1 s), acks come again.
    faulty.fail = false;
    const again = await waitFor(async () => {
      const answer = await a.request({
        type: "post",
        message: "back",
        recipient: b.welcome.user_id,
      });
      return answer.type === "ack" && answer;
    }, { timeout: 5_000, interval: 100, message: "an ack once KV is back" });
    assert.deepEqual((again as { result: unknown }).result, { delivered: 1 });
    const got = await b.next((f) => f.type === "private" && f.message === "back", 5_000);
    assert.equal((got as { sender_cid: string }).sender_cid, a.welcome.cid);
    await b.next((f) => f.type === "signal" && f.signal.call === "c2", 5_000);
    assert.ok(
      !a.frames.some((f) => f.type === "error" && f.signal !== undefined),
      "the unacked signal got no error",
    );
    await Promise.all([a.close(), a2.close(), b.close()]);
  } finally {
    faulty.fail = false;
    await hubA.close();
    await hubB.close();
    faulty.kv.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
});
